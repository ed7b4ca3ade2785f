import Foundation
import Testing
import Telemetry
import Storage
@testable import Store

/// A cleanly closed store leaves one self-contained database file: the WAL is checkpointed and removed.
@Suite struct CloseRemovesWALTests {
    @Test func closeCheckpointsAndRemovesTheWAL() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-wal-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.db").path
        let store = try TelemetryStore(path: path)
        _ = try await store.store(deviceID: "d", batch: ReadingBatch(seq: 1, sensors: [
            SensorReadings(sensor: "t", exponent: nil, timestamps: [1, 2], values: [1, 2]),
        ]))
        _ = try store.readings(deviceID: "d", limit: 10)  // a read-only connection has had the file open
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
        store.close()
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"), "WAL left behind after close")
        #expect(!FileManager.default.fileExists(atPath: path + "-shm"), "shared-memory file left behind after close")
    }
}
