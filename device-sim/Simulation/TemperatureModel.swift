// Indoor air temperature: a daily cycle (warmest at 15:00 local, coolest at 03:00) around a per-device mean, plus
// sensor noise.
//
//     celsius(t) = mean + amplitude × cos(2π (dayFraction(t) − 15/24)) + 0.02 × N(0, 1)
//
// mean ∈ 21 ± 0.5 °C and amplitude ∈ [1.2, 1.5] °C per device; the noise (sd 0.02 °C, two steps of the
// 0.01 °C grid) makes consecutive deltas small but non-zero, as a real thermistor's are.

import SplitMix

#if canImport(Glibc)
    internal import Glibc
#endif

/// The temperature model; see above.
struct TemperatureModel: Equatable, Sendable {
    /// Noise standard deviation in °C.
    static let noiseCelsius = 0.02
    /// The noise stream.
    private var random: SplitMix64
    /// The device's daily mean in °C.
    let meanCelsius: Double
    /// Half the daily swing in °C.
    let amplitudeCelsius: Double
    /// The device's local time.
    let localTime: LocalTime

    /// A device's model: parameters and noise from `seed`.
    init(seed: UInt64, localTime: LocalTime) {
        random = SplitMix64(seed: seed)
        meanCelsius = 21 + random.nextDouble(in: -0.5...0.5)
        amplitudeCelsius = random.nextDouble(in: 1.2...1.5)
        self.localTime = localTime
    }

    /// The reading at `ms` in hundredths of a degree.
    mutating func nextMantissa(at ms: Int64) -> Int32 {
        let cycle = cos(2 * Double.pi * (localTime.dayFraction(ms) - 15.0 / 24.0))
        let celsius = meanCelsius + amplitudeCelsius * cycle + Self.noiseCelsius * random.nextGaussian()
        return Int32((celsius * 100).rounded())
    }
}
