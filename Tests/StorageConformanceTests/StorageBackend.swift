// The backends the conformance suite runs against, and the one factory that opens them. Every test receives a
// `StorageBackend` as its argument, opens it here and from then on talks only to `any TelemetryStorage`: the suite
// is one specification, and a backend conforms when it passes it unchanged.

import Foundation
import PostgresTestSupport
import Storage
import Store
import Telemetry
import Testing

/// A storage backend under test.
enum StorageBackend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    /// `TelemetryStore` (module `Store`) on a file in a fresh temporary directory.
    case sqlite
    /// `PostgresTelemetryStore` (module `PostgresStore`) on a fresh database of the suite's throwaway server.
    case postgres

    /// The backends that can run here: `.postgres` needs a PostgreSQL server to start.
    static let available: [StorageBackend] = allCases.filter { $0.unavailableReason == nil }

    /// The backends on which two collectors may share one database. Not SQLite: its single writer keeps each
    /// device's last seq and each series' last chunk end in memory (GroupCommitWriter's caches), so a second
    /// writer on the same file would not see the other's seqs and chunks and would append chunks overlapping them.
    /// One collector owns a SQLite file; sharing a database is what the PostgreSQL backend is for.
    static let sharingADatabase: [StorageBackend] = available.filter(\.isShared)

    /// Why the backend cannot run here, nil when it can.
    var unavailableReason: String? {
        switch self {
        case .sqlite:
            return nil
        case .postgres:
            guard TestPostgresServer.isAvailable else {
                return "no PostgreSQL server binaries (initdb, pg_ctl; as root also runuser and a postgres user): "
                    + "install postgresql"
            }
            return nil
        }
    }

    /// Whether several collectors may share the backend's database: then each store names its own counter rows
    /// (`sharedCollectorName`, `counters(collector:)`, `counterCollectors()`), and `counters()` sums them all.
    var isShared: Bool { self == .postgres }

    var testDescription: String { rawValue }
}

/// A backend opened for one test: the storage under test, where its data lives (for a second collector on the
/// same data), and the async forms of its callback API. Call `remove()` at the end of the test (`defer`): it closes
/// the storage and deletes what the test created.
final class OpenedStorage: Sendable {
    /// Which backend this is.
    let backend: StorageBackend
    /// The storage under test: the suite uses nothing else of it.
    let storage: any TelemetryStorage
    /// The SQLite file's path, or the PostgreSQL database's URL.
    let location: String
    /// The temporary directory holding the SQLite file (nil for PostgreSQL, whose server the suite removes).
    private let directory: URL?

    init(backend: StorageBackend, storage: any TelemetryStorage, location: String, directory: URL?) {
        self.backend = backend
        self.storage = storage
        self.location = location
        self.directory = directory
    }

    /// Stores `batch` and returns its outcome once committed: `submit` in a continuation.
    func store(deviceID: String, batch: ReadingBatch) async throws(StoreError) -> BatchOutcome {
        try await Self.store(storage, deviceID: deviceID, batch: batch)
    }

    /// Stores `batch` through `storage` (any backend) and returns its outcome once committed.
    static func store(
        _ storage: any TelemetryStorage, deviceID: String, batch: ReadingBatch
    ) async throws(StoreError) -> BatchOutcome {
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<BatchOutcome, StoreError>, Never>) in
            do throws(StoreError) {
                try storage.submit(deviceID: deviceID, batch: batch) { continuation.resume(returning: $0) }
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        return try result.get()
    }

    /// Adds counter deltas and returns once they are committed.
    func addCounters(_ deltas: [CounterDelta], atMs: Int64) async throws(StoreError) {
        let storage = storage
        let result = await withCheckedContinuation {
            (continuation: CheckedContinuation<Result<Void, StoreError>, Never>) in
            do throws(StoreError) {
                try storage.addCounters(deltas, atMs: atMs) { continuation.resume(returning: $0) }
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        try result.get()
    }

    /// Compacts and sweeps now (each backend's `compactAndSweep`), so the settled layout is what is read next.
    func settle() async throws(StoreError) {
        if let store = storage as? TelemetryStore {
            try await store.compactAndSweep()
        } else if try await !PostgresBackend.settle(storage) {
            preconditionFailure("settle: no compaction for \(type(of: storage))")
        }
    }

    /// Revokes and restores devices as `collector devices` does, in another connection beside the running store
    /// (each backend's deny-list tool: `DeviceRevocations`, `PostgresRevocations`); returns what each changed.
    func changeDenyList(revoke: [String], restore: [String], atMs: Int64) throws -> (
        revoked: [String], restored: [String]
    ) {
        switch backend {
        case .sqlite:
            let revocations = try DeviceRevocations(path: location)
            return (try revocations.revoke(revoke, atMs: atMs), try revocations.restore(restore))
        case .postgres:
            return try PostgresBackend.changeDenyList(url: location, revoke: revoke, restore: restore, atMs: atMs)
        }
    }

    /// Closes the storage and deletes the SQLite directory.
    func remove() {
        storage.close()
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }
}

/// Why a backend could not be opened for a test.
struct BackendUnavailable: Error, CustomStringConvertible {
    var description: String
}

/// Opens `backend` on fresh, empty data as collector `collectorName`.
func open(_ backend: StorageBackend, collectorName: String = "c1") throws -> OpenedStorage {
    switch backend {
    case .sqlite:
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fleetwire-conformance-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("telemetry.db").path
        do {
            let store = try TelemetryStore(path: path)
            return OpenedStorage(backend: .sqlite, storage: store, location: path, directory: directory)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    case .postgres:
        let url = try TestPostgresServer.required().makeDatabase()
        let storage = try PostgresBackend.open(url: url, collectorName: collectorName)
        return OpenedStorage(backend: .postgres, storage: storage, location: url, directory: nil)
    }
}

/// Opens `backend` on fresh data whose database sorts text by a language's rules where it can (PostgreSQL: an ICU
/// collation as the database default); SQLite has no database collation and opens as usual.
func open(_ backend: StorageBackend, languageCollation icuLocale: String) throws -> OpenedStorage {
    guard backend == .postgres else { return try open(backend) }
    let url = try PostgresBackend.makeDatabase(icuLocale: icuLocale)
    let storage = try PostgresBackend.open(url: url, collectorName: "c1")
    return OpenedStorage(backend: .postgres, storage: storage, location: url, directory: nil)
}

/// Opens a second store on the data of `first` as another collector (two collectors sharing one database).
func open(
    _ backend: StorageBackend, sameDatabaseAs first: OpenedStorage, collectorName: String
) throws -> OpenedStorage {
    precondition(backend == first.backend, "a second store opens on the same backend as the first")
    switch backend {
    case .sqlite:
        throw BackendUnavailable(description: "one collector owns a SQLite file (see StorageBackend.sharingADatabase)")
    case .postgres:
        let storage = try PostgresBackend.open(url: first.location, collectorName: collectorName)
        return OpenedStorage(backend: .postgres, storage: storage, location: first.location, directory: nil)
    }
}

/// Opens the data of `closed` again, after `closed.storage.close()`: a collector's restart. The first store still
/// owns the data (its `remove()` deletes it); the reopened one's `remove()` only closes it.
func reopen(_ closed: OpenedStorage, collectorName: String = "c1") throws -> OpenedStorage {
    precondition(closed.storage.isClosed, "close the store before opening its data again")
    switch closed.backend {
    case .sqlite:
        let store = try TelemetryStore(path: closed.location)
        return OpenedStorage(backend: .sqlite, storage: store, location: closed.location, directory: nil)
    case .postgres:
        let storage = try PostgresBackend.open(url: closed.location, collectorName: collectorName)
        return OpenedStorage(backend: .postgres, storage: storage, location: closed.location, directory: nil)
    }
}
