// Indoor relative humidity: a daily cycle opposite to temperature's (most humid at 05:00 local, when the air is
// coolest) around a per-device mean, plus sensor noise, kept within 0…100 %RH.
//
//     rh(t) = mean + amplitude × cos(2π (dayFraction(t) − 5/24)) + 0.05 × N(0, 1)
//
// mean ∈ 45 ± 3 %RH and amplitude ∈ [8, 10] %RH per device; the noise is half a step of the 0.1 % grid, so the
// reading often repeats, as a real capacitive sensor's does.

import SplitMix

#if canImport(Glibc)
    internal import Glibc
#endif

/// The relative humidity model; see above.
struct HumidityModel: Equatable, Sendable {
    /// Noise standard deviation in %RH.
    static let noisePercent = 0.05
    /// The noise stream.
    private var random: SplitMix64
    /// The device's daily mean in %RH.
    let meanPercent: Double
    /// Half the daily swing in %RH.
    let amplitudePercent: Double
    /// The device's local time.
    let localTime: LocalTime

    /// A device's model: parameters and noise from `seed`.
    init(seed: UInt64, localTime: LocalTime) {
        random = SplitMix64(seed: seed)
        meanPercent = 45 + random.nextDouble(in: -3...3)
        amplitudePercent = random.nextDouble(in: 8...10)
        self.localTime = localTime
    }

    /// The reading at `ms` in tenths of a percent, within 0…1000.
    mutating func nextMantissa(at ms: Int64) -> Int32 {
        let cycle = cos(2 * Double.pi * (localTime.dayFraction(ms) - 5.0 / 24.0))
        let percent = meanPercent + amplitudePercent * cycle + Self.noisePercent * random.nextGaussian()
        return Int32(min(max((percent * 10).rounded(), 0), 1000))
    }
}
