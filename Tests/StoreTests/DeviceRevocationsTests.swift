import Foundation
import Testing

import Storage
@testable import Store

@Suite struct DeviceRevocationsTests {
    @Test func revokeRestoreAndListWhileTheStoreIsOpen() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path()
        let store = try TelemetryStore(path: path)
        defer { store.close() }
        // A separate connection, as `collector devices` in another process has, beside the running store.
        let revocations = try DeviceRevocations(path: path)
        #expect(try revocations.revoke(["dev-b", "dev-a"], atMs: 1_000) == ["dev-b", "dev-a"])
        #expect(try revocations.revoke(["dev-a", "dev-c"], atMs: 2_000) == ["dev-c"])
        let listed = try revocations.list()
        #expect(
            listed == [
                RevokedDevice(device: "dev-a", revokedAtMs: 1_000),
                RevokedDevice(device: "dev-b", revokedAtMs: 1_000),
                RevokedDevice(device: "dev-c", revokedAtMs: 2_000),
            ])
        // The store's own read connections see the committed list.
        #expect(try store.revokedDevices() == listed)
        #expect(try revocations.restore(["dev-b", "dev-x"]) == ["dev-b"])
        #expect(try store.revokedDevices().map(\.device) == ["dev-a", "dev-c"])
        // The writer keeps working beside the other connection.
        let outcome = try await store.store(deviceID: "dev-a", batch: makeBatch(seq: 1, [("t", [(1, 1.0)])]))
        #expect(outcome.readingsStored == 1)
    }

    @Test func aMissingFileIsNotCreated() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("typo.db")
        #expect(throws: StoreError.self) { try DeviceRevocations(path: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
