// The collector process's server: one listening port for HTTP/1.1 and h2c, N event loops, one store.
//
// Start: open (or create) the database, load the persisted bandwidth counters, bind, start the loops.
// Every `counterFlushMs` the counters that changed are persisted through the store's writer (so a crash loses at
// most one interval; a flush that fails is kept for the next one), and a change in the storage's health is logged.
// Shutdown: stop accepting, ask every connection to finish (HTTP/2 GOAWAY; HTTP/1.1 closes after its current
// response), wait up to `shutdownGraceMs`, close what is left, persist the counters, close the store (which commits
// everything queued), stop the loops.

import Accounting
import Clocks
import CollectorService
import Dispatch
import EventIO
import Foundation
import Storage
import Synchronization
import Telemetry

/// A running collector.
public final class CollectorServer: Sendable {
    /// The address actually bound (the real port when 0 was asked for).
    public let localAddress: SocketAddress
    /// The configuration it runs with.
    public let configuration: CollectorConfiguration
    /// The bandwidth ledger (totals per protocol and device).
    public var ledger: BandwidthLedger { context.ledger }
    /// The store.
    public var store: any TelemetryStorage { context.store }

    let context: CollectorContext
    let group: EventLoopGroup
    private let listener: TCPListener
    private let directory: RegistryDirectory
    let isStopped = Mutex(false)
    private let storageLog = Mutex(StorageHealthLog())

    /// Binds and starts serving on `store`, which the server owns from now on: it closes it at shutdown, or at
    /// once when it cannot start.
    public init(configuration: CollectorConfiguration, store: any TelemetryStorage, log: Log = Log())
        throws(CollectorError)
    {
        self.configuration = configuration
        var persisted: [BandwidthKey: BandwidthCounters] = [:]
        var others: [String: [BandwidthKey: BandwidthCounters]] = [:]
        do {
            // On a shared database the ledger starts from this collector's own rows (it adds only to those); the
            // other collectors' rows are read beside them and refreshed after every flush.
            let own = try store.sharedCollectorName.map { name throws(StoreError) in try store.counters(collector: name) }
            for row in try own ?? store.counters() {
                persisted[BandwidthKey(row.totals.protocolName, row.totals.device)] = BandwidthCounters(row.totals)
            }
            others = try Self.otherCollectorsCounters(store)
        } catch {
            store.close()
            throw CollectorError(description: "cannot read the bandwidth counters: \(error)")
        }
        let authenticator: Authenticator
        do {
            authenticator = try Authenticator(settings: configuration.authentication, store: store)
        } catch {
            store.close()
            throw CollectorError(description: "cannot read the devices and the deny list: \(error)")
        }
        var tls: CollectorTLS?
        if let settings = configuration.tls {
            do {
                tls = try CollectorTLS(settings: settings, authenticator: authenticator)
            } catch {
                store.close()
                throw CollectorError(description: "cannot start TLS: \(error)")
            }
        }
        let limiter = ConnectionLimiter(limits: Self.connectionLimits(configuration, log: log))
        context = CollectorContext(
            configuration: configuration, store: store, ledger: BandwidthLedger(persisted: persisted, others: others),
            authenticator: authenticator, log: log, limiter: limiter, tls: tls)
        let directory = RegistryDirectory()
        self.directory = directory
        do {
            let address = try SocketAddress.resolve(configuration.listen)
            group = try EventLoopGroup(loopCount: max(configuration.loops, 1), name: "fw-loop")
            let context = self.context
            listener = try TCPListener(bindingTo: address, on: group.loops[0], distributingTo: group,
                                       limiter: limiter, byteTotals: context.transportTotals) {
                ProtocolSniffer(context: context, directory: directory)
            }
        } catch {
            store.close()
            throw CollectorError(description: "cannot listen on \(configuration.listen): \(error)")
        }
        localAddress = listener.localAddress
        scheduleCounterFlush()
        if configuration.authentication.isEnabled { scheduleRevocationReload() }
    }

    /// Persists the counters changed since the last flush; on failure they are kept for the next one.
    public func flushCounters(completion: (@Sendable () -> Void)? = nil) {
        let deltas = context.ledger.takeUnpersisted()
        guard !deltas.isEmpty else {
            completion?()
            return
        }
        let ledger = context.ledger
        let log = context.log
        do {
            let rows = deltas.map { $0.value.delta(for: $0.key) }
            try context.store.addCounters(rows, atMs: WallClock.nowMs()) { result in
                if case .failure(let error) = result {
                    ledger.restore(deltas)
                    // A failing storage is reported once by `logStorageHealth`, not at every flush.
                    if case .storageFailure = error {} else {
                        log.warning("could not persist bandwidth counters (will retry): \(error)")
                    }
                }
                completion?()
            }
        } catch {
            ledger.restore(deltas)
            completion?()
        }
    }

    private func scheduleCounterFlush() {
        let loop = group.loops[0]
        let interval = Duration.milliseconds(configuration.counterFlushMs)
        loop.execute { [self] in
            var refusalLog = RefusalLog()
            func tick() {
                guard !isStopped.withLock({ $0 }) else { return }
                logStorageHealth()
                flushCounters()
                refreshOtherCollectors()
                refusalLog.report(context)
                loop.schedule(after: interval) { tick() }
            }
            loop.schedule(after: interval) { tick() }
        }
    }

    /// Logs a change in the storage's health, rate-limited (see StorageHealthLog.swift).
    private func logStorageHealth() {
        let health = context.store.storageHealth()
        let lines = storageLog.withLock { $0.observe(health, nowMs: WallClock.nowMs()) }
        for line in lines {
            switch line.level {
            case .error: context.log.error(line.message)
            case .warning: context.log.warning(line.message)
            default: context.log.notice(line.message)
            }
        }
    }

    /// Bytes the listener's connections read and wrote, as the transports counted them.
    public func socketTotals() -> (bytesIn: Int64, bytesOut: Int64) {
        (context.transportTotals.bytesRead, context.transportTotals.bytesWritten)
    }

    /// Graceful shutdown; returns when the store is closed. Safe to call more than once.
    public func shutdown() {
        let wasStopped = isStopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        guard !wasStopped else { return }
        listener.close()
        for loop in group.loops { loop.execute { [directory] in directory.registry(for: loop).beginShutdown() } }
        let deadline = ContinuousClock.now + .milliseconds(configuration.shutdownGraceMs)
        while ContinuousClock.now < deadline && openConnections() > 0 {
            Thread.sleep(forTimeInterval: 0.02)
        }
        for loop in group.loops { loop.execute { [directory] in directory.registry(for: loop).closeAll() } }
        _ = openConnections()  // a round trip through every loop: close callbacks have run
        let flushed = DispatchSemaphore(value: 0)
        flushCounters { flushed.signal() }
        flushed.wait()
        context.store.close()
        group.shutdownGracefully()
    }

    /// Closes every open connection at once, as a network failure would (for tests of client recovery).
    public func dropAllConnections() {
        for loop in group.loops { loop.execute { [directory] in directory.registry(for: loop).closeAll() } }
    }

    /// Open connections across all loops (asks each loop; blocks briefly).
    public func openConnections() -> Int {
        let total = Mutex(0)
        let done = DispatchSemaphore(value: 0)
        var asked = 0
        for loop in group.loops {
            if loop.execute({ [directory] in
                let count = directory.registry(for: loop).openCount
                total.withLock { $0 += count }
                done.signal()
            }) {
                asked += 1
            }
        }
        for _ in 0..<asked { done.wait() }
        return total.withLock { $0 }
    }
}
