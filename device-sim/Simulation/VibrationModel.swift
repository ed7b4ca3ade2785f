// Vibration RMS of a machine the device is mounted on: the machine switches on and off at random during its
// working shift (06:00–22:00 local on weekdays) and stops outside it; running it shakes at a per-device level with
// some spread, idle it reads only sensor noise.
//
//     running → stopped with probability interval / 20 min per reading (interval / 2 min outside the shift)
//     stopped → running with probability interval / 10 min per reading (never outside the shift)
//     g(t) = running ? level × (1 + 0.08 × N(0, 1)) : 0.004 + 0.001 × N(0, 1),  at least 0
//
// level ∈ [0.15, 0.6] g per device. The on/off process is a two-state Markov chain, so a machine runs about two
// thirds of its shift in stretches of twenty minutes or so.

import SplitMix

/// The vibration model; see above.
struct VibrationModel: Equatable, Sendable {
    /// Reading of an idle machine, in g.
    static let idleG = 0.004
    /// Noise standard deviation of an idle reading, in g.
    static let idleNoiseG = 0.001
    /// Relative spread of a running machine's reading.
    static let runningSpread = 0.08
    /// The switching and noise stream.
    private var random: SplitMix64
    /// The running machine's RMS level in g.
    let runningG: Double
    /// Per-reading probability that a running machine stops during the shift.
    let stopChance: Double
    /// Per-reading probability that a stopped machine starts during the shift.
    let startChance: Double
    /// Per-reading probability that a running machine stops outside the shift.
    let offShiftStopChance: Double
    /// The device's local time.
    let localTime: LocalTime
    /// Whether the machine is running.
    private(set) var isRunning = false

    /// A device's model for readings `intervalMs` apart: parameters and noise from `seed`.
    init(seed: UInt64, intervalMs: Int64, localTime: LocalTime) {
        random = SplitMix64(seed: seed)
        runningG = random.nextDouble(in: 0.15...0.6)
        let interval = Double(max(intervalMs, 1))
        stopChance = min(interval / 1_200_000, 1)
        startChance = min(interval / 600_000, 1)
        offShiftStopChance = min(interval / 120_000, 1)
        self.localTime = localTime
    }

    /// True during the machine's working shift.
    func isShift(at ms: Int64) -> Bool {
        let hour = localTime.hour(ms)
        return hour >= 6 && hour < 22 && !localTime.isWeekend(ms)
    }

    /// The reading at `ms` in thousandths of a g.
    mutating func nextMantissa(at ms: Int64) -> Int32 {
        let chance = random.nextUnit()
        if isShift(at: ms) {
            isRunning = isRunning ? chance >= stopChance : chance < startChance
        } else if isRunning {
            isRunning = chance >= offShiftStopChance
        }
        let noise = random.nextGaussian()
        let g = isRunning ? runningG * (1 + Self.runningSpread * noise) : Self.idleG + Self.idleNoiseG * noise
        return Int32(max(g * 1000, 0).rounded())
    }
}
