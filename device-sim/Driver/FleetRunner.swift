// Runs a whole fleet: devices spread over N event loops (each device on one loop for its whole life), a progress
// line while running, then the report with the collector's own figures for the cross-check.

import EventIO
import Foundation
import Simulation
import Synchronization
import Telemetry
import TLS
import Trust

/// What a run needs besides the fleet itself.
public struct RunOptions: Sendable {
    /// The collector, `host:port`.
    public var target: String
    /// Event loop threads.
    public var loops: Int
    /// A call not answered within this is abandoned (connection closed, retried).
    public var callTimeoutMs: Int64 = 30_000
    /// Real-time limit: devices are told to finish then (nil: none).
    public var timeLimitMs: Int64?
    /// After finishing, how long stragglers get to deliver what they hold.
    public var drainMs: Int64 = 15_000
    /// Records every acknowledged batch as it is acknowledged (nil: no record).
    public var ackLog: AckLog?
    /// Called about once a second with a progress snapshot.
    public var onProgress: (@Sendable (ProgressSnapshot) -> Void)?
    /// The fleet key the devices' tokens (and TLS-PSKs) derive from; nil sends no authorization.
    public var fleetKey: FleetKey?
    /// Plaintext or TLS, keep-alive or per-batch, resumption. Its `connectionMode` replaces the configuration's
    /// (`DeviceSettings.connectionMode`), so one setting decides.
    public var link = LinkSettings()
    /// Upload and Sync streams use stream context: a batch leaves out the sensor names, exponents, starts and seq
    /// its stream already said (`--stream-context off` sends every batch in full).
    public var usesStreamContext = true
    /// gRPC batches carry small mantissa deltas bit-packed (`packed_deltas`; `--packing off`: varints only).
    public var packsDeltas = true
    /// How connect devices encode their Push requests (`--connect-codec`): protobuf or proto3 JSON.
    public var connectCodec = ConnectCodec.proto
    /// The HTTP of grpc-web, grpc-web-text and connect devices (`--web-http`): HTTP/1.1 keep-alive, or HTTP/2 as
    /// the gRPC devices speak it.
    public var webHTTP = WebHTTPVersion.http1
    /// A TLS handshake not finished within this fails the connect (retried like a refused one).
    public var handshakeTimeoutMs: Int64 = 10_000

    /// The options for `target` on `loops` event loops; everything else starts at the defaults above.
    public init(target: String, loops: Int) {
        self.target = target
        self.loops = loops
    }
}

/// What a run produced.
public struct RunResult: Sendable {
    /// One summary per device, gathered from every loop's fleet.
    public var summaries: [DeviceSummary]
    /// Acknowledgement latencies by protocol, merged from every loop's fleet.
    public var latencies: ProtocolLatencies
    /// Real time the run took: until every device finished, or the time limit plus the drain passed.
    public var elapsedNs: UInt64
    /// `Monotonic.nowNs()` when the run started, the clock the progress snapshots' times are on.
    public var startNs: UInt64
    /// Why a TLS handshake failed, for the first one that did (nil when none failed): an untrusted certificate or
    /// a refused PSK shows here instead of as anonymous connect failures only.
    public var firstHandshakeFailure: String?
}

/// Why a run could not start.
public struct RunError: Error, CustomStringConvertible {
    /// What kept the run from starting (a bad setting, an unresolvable target, no event loops), for the user.
    public var description: String
}

/// Drives a fleet against a collector.
public enum FleetRunner {
    /// Runs until every device finished (or the time limit plus the drain passed); blocks the calling thread.
    public static func run(_ configuration: FleetConfiguration, options: RunOptions) throws(RunError) -> RunResult {
        var configuration = configuration
        configuration.settings.connectionMode = options.link.connectionMode
        if let problem = configuration.settings.problem { throw RunError(description: problem) }
        if options.link.tls == .psk && options.fleetKey == nil {
            throw RunError(description: "TLS-PSK needs the fleet key (each device's PSK derives from it)")
        }
        let tls: FleetTLS?
        if !options.link.isTLS {
            tls = nil
        } else {
            do {
                tls = try FleetTLS(link: options.link, target: options.target,
                                   handshakeTimeout: .milliseconds(options.handshakeTimeoutMs))
            } catch {
                throw RunError(description: "cannot set up TLS: \(error)")
            }
        }
        let target: SocketAddress
        do {
            target = try SocketAddress.resolve(options.target)
        } catch {
            throw RunError(description: "cannot resolve the target \(options.target): \(error)")
        }
        _ = try? ResourceLimits.raiseOpenFileLimit()
        let group: EventLoopGroup
        do {
            group = try EventLoopGroup(loopCount: max(options.loops, 1), name: "sim-loop")
        } catch {
            throw RunError(description: "cannot start event loops: \(error)")
        }
        let loops = group.loops
        let fleets = FleetTable()
        // The loops' fleets must outlive the loops: shutting a loop down closes the connections still open (a run
        // cut by the time limit leaves some), and their links report to their fleet (an unowned reference).
        defer {
            group.shutdownGracefully()
            withExtendedLifetime(fleets) {}
        }
        let finished = DispatchSemaphore(value: 0)
        let startNs = Monotonic.nowNs()
        // Simulated time starts now: anchor the clock at this run's real start.
        let clock = configuration.settings.clock
        switch clock.pacing {
        case .speedup(let speedup):
            configuration.settings.clock = SimulatedClock(start: clock.startMs, speedup: speedup, realOrigin: startNs)
        case .maxRate:
            configuration.settings.clock = .maxRate(start: clock.startMs, realOrigin: startNs)
        }
        let fleetConfiguration = configuration
        for (index, loop) in loops.enumerated() {
            let indices = Array(stride(from: index, to: configuration.deviceCount, by: loops.count))
            loop.execute {
                let fleet = LoopFleet(
                    loop: loop, fleet: DeviceFleet(configuration: fleetConfiguration, indices: indices), target: target,
                    authority: options.target, callTimeoutNs: UInt64(options.callTimeoutMs) * 1_000_000,
                    ackLog: options.ackLog, fleetKey: options.fleetKey, tls: tls,
                    usesStreamContext: options.usesStreamContext, packsDeltas: options.packsDeltas,
                    connectCodec: options.connectCodec, webHTTP: options.webHTTP,
                    onFinished: { finished.signal() })
                fleets.set(index, LoopBound(fleet, on: loop))
                fleet.start()
            }
        }
        // Wait for every loop's devices, reporting progress and enforcing the time limit.
        var done = 0
        var toldToFinish = false
        var lastProgress = startNs
        while done < loops.count {
            if finished.wait(timeout: .now() + .milliseconds(100)) == .success {
                done += 1
                continue
            }
            let now = Monotonic.nowNs()
            if let limit = options.timeLimitMs, !toldToFinish, now - startNs >= UInt64(limit) * 1_000_000 {
                toldToFinish = true
                onEveryLoop(loops, fleets) { $0.finish() }
            }
            if let limit = options.timeLimitMs, now - startNs >= UInt64(limit + options.drainMs) * 1_000_000 {
                break  // stragglers keep what they could not deliver; the report shows it as buffered
            }
            if let report = options.onProgress, now - lastProgress >= 1_000_000_000 {
                lastProgress = now
                let snapshot = Mutex(ProgressSnapshot(atNs: now))
                onEveryLoop(loops, fleets) { fleet in
                    let part = fleet.progress()
                    snapshot.withLock { $0.merge(part) }
                }
                report(snapshot.withLock { $0 })
            }
        }
        let elapsed = Monotonic.nowNs() - startNs
        let summaries = Mutex<[DeviceSummary]>([])
        let latencies = Mutex(ProtocolLatencies())
        let handshakeFailure = Mutex<String?>(nil)
        onEveryLoop(loops, fleets) { fleet in
            let part = fleet.fleet.summaries
            let histogram = fleet.fleet.latencies
            let failure = fleet.firstHandshakeFailure
            summaries.withLock { $0 += part }
            latencies.withLock { $0.merge(histogram) }
            if let failure { handshakeFailure.withLock { $0 = $0 ?? failure } }
        }
        return RunResult(summaries: summaries.withLock { $0 }, latencies: latencies.withLock { $0 }, elapsedNs: elapsed,
                         startNs: startNs, firstHandshakeFailure: handshakeFailure.withLock { $0 })
    }

    /// Runs `body` on every loop with its fleet and waits for all of them.
    private static func onEveryLoop(_ loops: [EventLoop], _ fleets: FleetTable,
                                    _ body: @escaping @Sendable (LoopFleet) -> Void) {
        let done = DispatchSemaphore(value: 0)
        var asked = 0
        for (index, loop) in loops.enumerated() {
            guard let bound = fleets.get(index) else { continue }
            if loop.execute({
                body(bound.value)
                done.signal()
            }) {
                asked += 1
            }
        }
        for _ in 0..<asked { done.wait() }
    }
}

/// Each loop's fleet, reachable from the runner's thread (used only on its own loop, via `LoopBound`).
final class FleetTable: Sendable {
    private let fleets = Mutex<[Int: LoopBound<LoopFleet>]>([:])

    func set(_ index: Int, _ fleet: LoopBound<LoopFleet>) { fleets.withLock { $0[index] = fleet } }
    func get(_ index: Int) -> LoopBound<LoopFleet>? { fleets.withLock { $0[index] } }
}
