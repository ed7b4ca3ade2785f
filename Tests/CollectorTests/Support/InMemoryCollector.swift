import Accounting
import EventIO
import Foundation
import Storage
import Store
import Synchronization

@testable import Collector
@testable import CollectorService

/// The collector's connection handlers on in-memory transports: one loop, a real store in a temp directory, and
/// each test step run on the loop, so connection edge cases are exact and need no sockets.
final class InMemoryCollector {
    let group: EventLoopGroup
    let context: CollectorContext
    let directory: URL
    let registries = RegistryDirectory()
    var loop: EventLoop { group.loops[0] }

    init(_ configure: (inout CollectorConfiguration) -> Void = { _ in }) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-mem-\(UUID().uuidString)")
        var configuration = CollectorConfiguration()
        configuration.databasePath = directory.appendingPathComponent("t.db").path
        configure(&configuration)
        let store = try TelemetryStore(path: configuration.databasePath)
        context = CollectorContext(
            configuration: configuration, store: store, ledger: BandwidthLedger(),
            authenticator: try Authenticator(settings: .off, store: store), log: Log(isVerbose: false))
        group = try EventLoopGroup(loopCount: 1, name: "fw-mem")
    }

    deinit {
        group.shutdownGracefully()
        context.store.close()
        try? FileManager.default.removeItem(at: directory)
    }

    /// A new connection as the listener makes one: a protocol sniffer first. Call on the loop.
    func connect(peerWindow: Int? = nil) -> InMemoryTransport {
        let transport = InMemoryTransport(loop: loop, handler: ProtocolSniffer(context: context, directory: registries))
        transport.peerWindow = peerWindow
        transport.open()
        return transport
    }

    /// Runs `body` on the loop and returns its result (bounded wait).
    func onLoop<T>(_ body: @escaping () throws -> T) throws -> T {
        let box = LoopBox<T>(body)
        let done = DispatchSemaphore(value: 0)
        _ = loop.execute {
            box.result = Result { try box.body() }
            done.signal()
        }
        guard done.wait(timeout: .now() + 10) == .success, let result = box.result else {
            throw CollectorError(description: "the loop did not run the step within 10 s")
        }
        return try result.get()
    }

    /// Waits until `condition`, checked on the loop, holds (bounded); returns whether it did.
    func waitOnLoop(timeout: Double = 10, _ condition: @escaping () -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if try onLoop(condition) { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return false
    }
}

/// Carries a step's result from the loop thread to the test thread (the semaphore orders the accesses).
private final class LoopBox<T>: @unchecked Sendable {
    let body: () throws -> T
    var result: Result<T, any Error>?
    init(_ body: @escaping () throws -> T) { self.body = body }
}
