// Battery voltage of a device that runs down and is recharged: a saw-tooth falling from 4.10 V to 3.70 V at a
// per-device rate, then back to 4.10 V, plus ADC noise.
//
//     mV(t) = 4100 − ((start + rate × minutes(t − origin)) mod 400) + 0.8 × N(0, 1)
//
// rate ∈ [0.5, 2] mV/min and the starting drop ∈ [0, 400) mV per device, so a fleet shows every state of charge.
// The voltage is a function of time alone (plus noise), so it needs no state besides the noise stream.

import SplitMix

/// The battery model; see above.
struct BatteryModel: Equatable, Sendable {
    /// Full charge in mV.
    static let fullMillivolts = 4100.0
    /// Usable swing in mV (down to 3.70 V).
    static let swingMillivolts = 400.0
    /// Noise standard deviation in mV.
    static let noiseMillivolts = 0.8
    /// The noise stream.
    private var random: SplitMix64
    /// Discharge rate in mV per minute.
    let millivoltsPerMinute: Double
    /// How far below full charge the battery is at `originMs`, in mV.
    let startDropMillivolts: Double
    /// The device's first reading time, which the discharge is measured from.
    let originMs: Int64

    /// A device's model: parameters and noise from `seed`; the discharge counts from `originMs`.
    init(seed: UInt64, originMs: Int64) {
        random = SplitMix64(seed: seed)
        millivoltsPerMinute = random.nextDouble(in: 0.5...2.0)
        startDropMillivolts = random.nextDouble(in: 0...(Self.swingMillivolts - 1))
        self.originMs = originMs
    }

    /// The reading at `ms` in mV.
    mutating func nextMantissa(at ms: Int64) -> Int32 {
        let minutes = Double(ms - originMs) / 60_000
        let drop = (startDropMillivolts + millivoltsPerMinute * minutes).truncatingRemainder(
            dividingBy: Self.swingMillivolts)
        let millivolts = Self.fullMillivolts - abs(drop) + Self.noiseMillivolts * random.nextGaussian()
        return Int32(millivolts.rounded())
    }
}
