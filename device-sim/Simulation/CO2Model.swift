// CO₂ in an office: outdoor air (about 420 ppm) plus what people breathe out during working hours on weekdays,
// plus a slow wander (ventilation, doors) and sensor noise.
//
//     occupancy(t) = sin(π (hour(t) − 8) / 10) between 08:00 and 18:00 local, else 0; × 0.1 at weekends
//     wander(n+1)  = wander(n) × a + s × N(0, 1)        (Ornstein–Uhlenbeck: σ = 15 ppm, τ = 2 h)
//     ppm(t)       = outdoor + peak × occupancy(t) + wander + 3 × N(0, 1),  at least 350 ppm
//
// outdoor ∈ 420 ± 10 ppm and peak ∈ [300, 700] ppm per device, so a day peaks near 700–1150 ppm at 13:00, as a
// meeting room does, and nights stay near outdoor air.

import SplitMix

#if canImport(Glibc)
    internal import Glibc
#endif

/// The CO₂ model; see above.
struct CO2Model: Equatable, Sendable {
    /// Stationary standard deviation of the wander in ppm.
    static let wanderSpreadPPM = 15.0
    /// Time constant of the wander in ms (2 h).
    static let wanderTimeConstantMs = 7_200_000.0
    /// Noise standard deviation in ppm.
    static let noisePPM = 3.0
    /// The lowest reading, in ppm.
    static let floorPPM = 350.0
    /// The noise and wander stream.
    private var random: SplitMix64
    /// The device's outdoor baseline in ppm.
    let outdoorPPM: Double
    /// What full occupancy adds, in ppm.
    let peakPPM: Double
    /// Per-reading decay of the wander.
    let decay: Double
    /// Per-reading step standard deviation of the wander in ppm.
    let stepPPM: Double
    /// The device's local time.
    let localTime: LocalTime
    /// The current wander in ppm.
    private var wanderPPM: Double

    /// A device's model for readings `intervalMs` apart: parameters and noise from `seed`.
    init(seed: UInt64, intervalMs: Int64, localTime: LocalTime) {
        random = SplitMix64(seed: seed)
        outdoorPPM = 420 + random.nextDouble(in: -10...10)
        peakPPM = random.nextDouble(in: 300...700)
        decay = exp(-Double(max(intervalMs, 1)) / Self.wanderTimeConstantMs)
        stepPPM = Self.wanderSpreadPPM * (1 - decay * decay).squareRoot()
        self.localTime = localTime
        wanderPPM = Self.wanderSpreadPPM * random.nextGaussian()
    }

    /// How full the office is at `ms`, in [0, 1].
    func occupancy(at ms: Int64) -> Double {
        let hour = localTime.hour(ms)
        guard hour > 8 && hour < 18 else { return 0 }
        let weekday = sin(Double.pi * (hour - 8) / 10)
        return localTime.isWeekend(ms) ? weekday * 0.1 : weekday
    }

    /// The reading at `ms` in ppm.
    mutating func nextMantissa(at ms: Int64) -> Int32 {
        wanderPPM = wanderPPM * decay + stepPPM * random.nextGaussian()
        let ppm = outdoorPPM + peakPPM * occupancy(at: ms) + wanderPPM + Self.noisePPM * random.nextGaussian()
        return Int32(max(ppm, Self.floorPPM).rounded())
    }
}
