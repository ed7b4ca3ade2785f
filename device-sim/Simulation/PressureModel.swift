// Barometric pressure: weather as a mean-reverting random walk (an Ornstein–Uhlenbeck process) around a per-device
// mean, plus sensor noise.
//
//     level(n+1) = mean + (level(n) − mean) × a + s × N(0, 1),   a = exp(−interval / τ),   s = σ √(1 − a²)
//     hPa(n)     = level(n) + 0.03 × N(0, 1)
//
// This is the exact discretisation of the process for readings one interval apart: whatever the interval, the
// level wanders with a stationary spread σ = 4 hPa and forgets its past over τ = 36 h (fronts pass in a day or
// two), so it drifts by about a hPa an hour and stays within mean ± 8 hPa most of the time. mean ∈ 1013 ± 3 hPa per
// device; the level is clamped to mean ± 20 hPa so no run, however long, leaves plausible weather.

import SplitMix

#if canImport(Glibc)
    internal import Glibc
#endif

/// The pressure model; see above.
struct PressureModel: Equatable, Sendable {
    /// Stationary standard deviation of the weather level in hPa.
    static let spreadHPa = 4.0
    /// How far the level may wander from the mean, in hPa.
    static let limitHPa = 20.0
    /// Time constant of the weather in ms (36 h).
    static let timeConstantMs = 129_600_000.0
    /// Noise standard deviation in hPa.
    static let noiseHPa = 0.03
    /// The walk and noise stream.
    private var random: SplitMix64
    /// The device's long-run mean in hPa.
    let meanHPa: Double
    /// Per-reading decay `a` of the level's distance from the mean.
    let decay: Double
    /// Per-reading step standard deviation `s` in hPa.
    let stepHPa: Double
    /// The current weather level in hPa.
    private var levelHPa: Double

    /// A device's model for readings `intervalMs` apart: parameters, starting level and noise from `seed`.
    init(seed: UInt64, intervalMs: Int64) {
        random = SplitMix64(seed: seed)
        meanHPa = 1013 + random.nextDouble(in: -3...3)
        decay = exp(-Double(max(intervalMs, 1)) / Self.timeConstantMs)
        stepHPa = Self.spreadHPa * (1 - decay * decay).squareRoot()
        levelHPa = meanHPa + Self.spreadHPa * random.nextGaussian()
    }

    /// The reading one interval after the previous one, in tenths of a hPa (the walk ignores `ms`: it advances one
    /// step per reading, and readings are one interval apart).
    mutating func nextMantissa(at ms: Int64) -> Int32 {
        let step = meanHPa + (levelHPa - meanHPa) * decay + stepHPa * random.nextGaussian()
        levelHPa = min(max(step, meanHPa - Self.limitHPa), meanHPa + Self.limitHPa)
        let hPa = levelHPa + Self.noiseHPa * random.nextGaussian()
        return Int32((hPa * 10).rounded())
    }
}
