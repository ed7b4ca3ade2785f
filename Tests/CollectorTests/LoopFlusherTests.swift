// The before-sleep flush: a connection marked any number of times in one iteration is flushed once, before the loop
// sleeps; a flush that marks again is flushed again in the same hook.

import EventIO
import Testing

@testable import Collector

@Suite(.serialized) struct LoopFlusherTests {
    /// Counts its flushes; marks itself again from its first `remarks` flushes, as a write reported inside a
    /// flush does.
    final class Probe: LoopFlushable {
        var flushes = 0
        var remarks = 0
        weak var flusher: LoopFlusher?

        func flushPending() {
            flushes += 1
            if remarks > 0, let flusher {
                remarks -= 1
                flusher.mark(self)
            }
        }
    }

    // The steps capture the directory and the loop, never `collector`: a step's closure is released on the loop
    // thread, and the collector must not be released last there (its deinit stops the loop group).

    @Test func marksInOneIterationFlushOnceBeforeTheLoopSleeps() throws {
        let collector = try InMemoryCollector()
        let (registries, loop) = (collector.registries, collector.loop)
        let (flusher, probe) = try collector.onLoop {
            let flusher = registries.flusher(for: loop)
            let probe = Probe()
            probe.flusher = flusher
            flusher.mark(probe)
            flusher.mark(probe)
            flusher.mark(probe)
            return (flusher, probe)
        }
        // The next step runs in a later iteration: the hook has run in between.
        #expect(try collector.onLoop { probe.flushes } == 1)
        #expect(try collector.onLoop { probe.flushes } == 1, "nothing marked, nothing flushed")
        try collector.onLoop {
            probe.remarks = 2
            flusher.mark(probe)
        }
        #expect(try collector.onLoop { probe.flushes } == 4, "re-marked during the flush: flushed again, same hook")
    }

    @Test func oneFlusherPerLoop() throws {
        let collector = try InMemoryCollector()
        let (registries, loop) = (collector.registries, collector.loop)
        let same = try collector.onLoop { registries.flusher(for: loop) === registries.flusher(for: loop) }
        #expect(same)
    }
}
