import Foundation
import Glibc
import Testing

import Storage
@testable import Store

/// The checkpointer's restart rule: a WAL the background rounds have copied completely starts over, so a store
/// under steady writes keeps a small WAL instead of growing it to the writer's safety checkpoint.
@Suite struct CheckpointerTests {
    /// Largest size the WAL file reached while `batches` one-batch transactions were written across 50 devices, and
    /// the checkpoints the writer ran to restart it.
    static func largestWAL(restartFrames: Int32, batches: Int) async throws -> (bytes: Int, restarts: UInt64) {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        var configuration = StoreConfiguration()
        configuration.walRestartFrames = restartFrames
        let path = directory.path()
        let store = try TelemetryStore(path: path, configuration: configuration)
        defer { store.close() }
        var largest = 0
        for index in 0..<batches {
            let seq = UInt64(index / 50 + 1)
            let sensors = ["a", "b", "c", "d"].map { name in
                (name, (0..<10).map { (Int64(seq) * 10 + Int64($0), Double(index)) })
            }
            _ = try await store.store(deviceID: "device-\(index % 50)", batch: makeBatch(seq: seq, sensors))
            if index % 20 == 0 {
                try await Task.sleep(for: .milliseconds(10))  // give the background rounds time to run
                let size = (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int) ?? 0
                largest = max(largest, size)
            }
        }
        return (largest, store.metrics().walRestartCheckpoints)
    }

    @Test func aFullyCopiedWALStartsOverInsteadOfGrowing() async throws {
        let growing = try await Self.largestWAL(restartFrames: .max, batches: 1_200)
        let restarting = try await Self.largestWAL(restartFrames: 32, batches: 1_200)
        #expect(growing.restarts == 0)
        #expect(restarting.restarts >= 3, "a restart after (nearly) every background round: \(restarting.restarts)")
        #expect(restarting.bytes < growing.bytes, "\(restarting.bytes) vs \(growing.bytes) bytes of WAL")
    }
}

extension CheckpointerTests {
    @Test func theCheckpointThreadAloneYieldsToTheWriter() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        _ = try TelemetryStore(path: path).close()  // creates the file in WAL mode
        let checkpointer = try Checkpointer(path: path, busyTimeoutMs: 100, intervalMs: 10, restartFrames: 64)
        defer { checkpointer.close() }
        for _ in 0..<200 where checkpointer.threadNiceness.load(ordering: .acquiring) == Int32.min {
            Thread.sleep(forTimeInterval: 0.005)
        }
        #expect(checkpointer.threadNiceness.load(ordering: .acquiring) == Checkpointer.niceness)
        let which = __priority_which_t(PRIO_PROCESS.rawValue)
        #expect(getpriority(which, 0) == 0, "the other threads keep their priority")
    }
}
