// One simulated device as a value-type state machine: events in, actions out. It owns its sensors, its batch
// buffer and its statistics, and performs no I/O, so every behaviour below is tested without a socket.
//
// Readings. Reading k of every sensor is taken at `originMs + k × interval`, where `originMs` is the run's start
// plus a per-device phase in [0, batch) (so 10,000 devices do not all send in the same millisecond). Batch n
// (seq n, from 1) holds the readings with `k × interval` in [(n−1) × batch, n × batch) and closes at
// `originMs + n × batch` simulated time, or at the end of the run with the readings taken before it. Paced, a
// batch is produced when its closing time has passed on the simulated clock; the device asks for a wake at the
// next closing time, so a driver wakes it once per batch, not once per reading (a reading depends only on its time
// and its sensor's own stream, so taking a batch's readings together changes nothing). Max-rate, a batch is
// produced when the device is ready to send one and has none waiting, and simulated time advances one batch period
// per batch.
//
// Sending. Batches wait in a bounded `BatchQueue`, oldest first; at most one call is in flight:
// - grpc-stream: open an Upload stream when a batch waits, send each batch on it as it is produced, half-close
//   after `streamBatches` batches (or when production is over and nothing waits), then wait for the Ack;
// - grpc-sync: as grpc-stream, but on a Sync stream whose Acks release the batches they cover as they arrive;
//   after the half-close the device waits for the remaining Acks and the OK end;
// - grpc-unary: one Push per batch; grpc-web, grpc-web-text and connect: the same Push over HTTP/1.1 (the driver
//   picks the form from the protocol); rest: one POST per batch; each waits for its answer before the next.
// An Ack releases the batches it covers. A retryable failure puts the call's batches back at the front (same seqs,
// re-sent first) and waits `backoff` before the next attempt (reconnecting first if the connection is gone); a
// final failure drops the call's batches. The failure streak, and so the backoff, resets on an Ack.
//
// Reconnecting per batch (`connectionMode == .perBatch`): the device connects only when a batch waits (not at
// start), an Upload stream carries one batch, and every Ack is followed by `.disconnect`; the next batch connects
// again. A failed call keeps the connection for its retry, as on a kept connection.
//
// Lifecycle: not started → running → finished. After `.finish` (or the end of the run's duration) the device
// produces nothing more, sends what it holds, then disconnects and reports `.finished`. A call refused for
// authentication (401/403, UNAUTHENTICATED/PERMISSION_DENIED) stops the device at once: its batches are dropped,
// what it still buffers stays unsent, `stoppedBy` says why, and it disconnects and reports `.finished`.

import SplitMix
import Telemetry

/// A simulated device; see above.
public struct SimulatedDevice: Sendable {
    /// Where the device's one connection stands.
    public enum ConnectionState: Equatable, Sendable {
        /// No connection; the device connects when it has a batch to send (or at start).
        case disconnected
        /// `.connect` was asked for; waiting for `.connected` or `.connectFailed`.
        case connecting
        /// The connection is up.
        case connected
    }

    /// Where the device's one call stands.
    public enum CallState: Equatable, Sendable {
        /// No call in flight.
        case idle
        /// An Upload or Sync stream is open and has carried `sent` batches; more may follow.
        case streaming(sent: Int)
        /// The request is complete (half-closed, pushed or posted): waiting for the answer.
        case awaitingAnswer
    }

    /// Where the device is in its life.
    public enum Lifecycle: Equatable, Sendable {
        /// Waiting for `.start`.
        case notStarted
        /// Producing and sending.
        case running
        /// Reported `.finished`; ignores every event.
        case finished
    }

    /// The device's name, sent as gRPC metadata `device-id` or in the REST path.
    public let deviceID: String
    /// The protocol of all its uploads.
    public let deviceProtocol: DeviceProtocol
    /// The settings of the run.
    public let settings: DeviceSettings
    /// Simulated Unix ms of reading 0.
    public let originMs: Int64
    /// One model per sensor, in `settings.sensors` order.
    var models: [SensorModel]
    /// Jitter for the backoff.
    var random: SplitMix64
    /// Batches produced so far; the last one's seq.
    public internal(set) var batchesClosed: UInt64 = 0
    /// Index k of the next reading to take.
    var nextReadingIndex: Int64 = 0
    /// True once no more batches will be produced (duration reached or `.finish`).
    public internal(set) var isProductionOver = false
    /// The buffered batches.
    public internal(set) var queue: BatchQueue
    /// The connection.
    public internal(set) var connection = ConnectionState.disconnected
    /// The call in flight.
    public internal(set) var call = CallState.idle
    /// The life of the device.
    public internal(set) var lifecycle = Lifecycle.notStarted
    /// Consecutive failures since the last Ack.
    public internal(set) var failureStreak = 0
    /// Real ns before which the device makes no new attempt; nil when not backing off.
    public internal(set) var retryAtNs: UInt64?
    /// The wake last asked for and not yet delivered.
    var wakeNs: UInt64?
    /// What the device did.
    public internal(set) var statistics = DeviceStatistics()
    /// The authentication refusal that stopped the device, if one did.
    public internal(set) var stoppedBy: DeviceFailure?

    /// A device named `deviceID` of the run seeded with `seed`; `settings.problem` must be nil.
    public init(deviceID: String, deviceProtocol: DeviceProtocol, seed: UInt64, settings: DeviceSettings) {
        precondition(settings.problem == nil, settings.problem ?? "")
        self.deviceID = deviceID
        self.deviceProtocol = deviceProtocol
        self.settings = settings
        let deviceSeed = SplitMix64.mix(seed, SplitMix64.hash(deviceID))
        var random = SplitMix64(seed: deviceSeed)
        let originMs = settings.clock.startMs + Int64(random.next() % UInt64(settings.batchMs))
        self.originMs = originMs
        self.random = random
        models = settings.sensors.map {
            SensorModel(kind: $0, deviceSeed: deviceSeed, originMs: originMs, intervalMs: settings.intervalMs)
        }
        queue = BatchQueue(capacity: settings.bufferCapacity)
        if let endMs = settings.endMs, originMs >= endMs { isProductionOver = true }
    }

    /// True while the connection is up.
    public var isConnected: Bool { connection == .connected }
    /// True once the device reported `.finished`.
    public var isFinished: Bool { lifecycle == .finished }

    /// Feeds one event that happened at real monotonic time `now` (ns); returns what to do, in order.
    public mutating func handle(_ event: DeviceEvent, at now: UInt64) -> [DeviceAction] {
        var actions: [DeviceAction] = []
        switch event {
        case .start:
            guard lifecycle == .notStarted else { break }
            lifecycle = .running
            if !isProductionOver && settings.connectionMode == .keep {
                connection = .connecting
                actions.append(.connect)
            }
        case .tick:
            wakeNs = nil
        case .connected:
            guard connection == .connecting else { break }
            connection = .connected
            statistics.connections += 1
        case .connectFailed(let failure):
            guard connection == .connecting else { break }
            connection = .disconnected
            statistics.errors[failure.kind] += 1
            startBackoff(at: now)
        case .acked(let ack, let seqs, let latencyNs):
            guard call != .idle else { break }
            acknowledge(ack, covering: seqs, latencyNs: latencyNs)
            if settings.connectionMode == .perBatch && connection == .connected {
                // A sleeping device: the batch is delivered, the radio goes off.
                actions.append(.disconnect)
                connection = .disconnected
            }
        case .streamAcked(let ack, let latencies):
            guard call != .idle else { break }
            acknowledgeOldest(ack, latenciesNs: latencies)
        case .streamEnded:
            guard call != .idle else { break }
            queue.requeueInFlight()  // an OK end acknowledged everything; anything left is sent again
            call = .idle
            failureStreak = 0
            if settings.connectionMode == .perBatch && connection == .connected {
                actions.append(.disconnect)
                connection = .disconnected
            }
        case .callFailed(let failure):
            guard call != .idle else { break }
            failCall(failure, at: now)
        case .disconnected(let failure):
            switch connection {
            case .disconnected: break
            case .connecting:
                connection = .disconnected
                statistics.errors[failure.kind] += 1
                startBackoff(at: now)
            case .connected:
                connection = .disconnected
                if call != .idle { failCall(failure, at: now) }
            }
        case .finish:
            guard lifecycle == .running else { break }
            produceDueBatches(at: now)
            isProductionOver = true
        }
        if lifecycle == .running { advance(at: now, into: &actions) }
        return actions
    }

    /// Adds bytes the networking layer wrote to and read from the device's sockets.
    public mutating func recordWireBytes(sent: Int, received: Int) {
        statistics.bytesSent += Int64(sent)
        statistics.bytesReceived += Int64(received)
    }

    /// Adds the TLS bytes beyond the plaintext (handshake, record overhead) to the TLS counters and to the wire
    /// bytes: the device's wire bytes are the socket's, ciphertext included.
    public mutating func recordTLSBytes(_ bytes: TLSBytes) {
        statistics.tls += bytes
        statistics.bytesSent += bytes.handshakeSent + bytes.recordSent
        statistics.bytesReceived += bytes.handshakeReceived + bytes.recordReceived
    }

    /// Counts a completed TLS handshake.
    public mutating func recordHandshake(_ kind: HandshakeKind) {
        statistics.handshakes[kind] += 1
    }

    /// Adds the TCP segments of a closed connection, as the kernel counted them.
    public mutating func recordSegments(sent: Int64, received: Int64) {
        statistics.segmentsSent += sent
        statistics.segmentsReceived += received
    }

    /// The device's figures for the report.
    public var summary: DeviceSummary {
        DeviceSummary(
            deviceID: deviceID, deviceProtocol: deviceProtocol, statistics: statistics,
            bufferedBatches: queue.count, bufferedReadings: queue.batches.reduce(0) { $0 + $1.readingCount },
            stoppedBy: stoppedBy)
    }

    // MARK: Outcomes

    /// The call in flight was answered: release what the answer covers.
    private mutating func acknowledge(_ ack: Ack, covering seqs: ClosedRange<UInt64>, latencyNs: UInt64) {
        for batch in queue.release(covering: seqs) {
            statistics.batchesAcked += 1
            statistics.readingsAcked += Int64(batch.readingCount)
        }
        statistics.readingsStored += Int64(clamping: ack.readings)
        statistics.duplicateBatches += Int64(clamping: ack.duplicateBatches)
        statistics.latency.record(latencyNs)
        call = .idle
        failureStreak = 0
    }

    /// An Ack on the open Sync stream: release the oldest batches it covers; the stream goes on.
    private mutating func acknowledgeOldest(_ ack: Ack, latenciesNs: [UInt64]) {
        for batch in queue.releaseOldest(Int(clamping: ack.batches)) {
            statistics.batchesAcked += 1
            statistics.readingsAcked += Int64(batch.readingCount)
        }
        statistics.readingsStored += Int64(clamping: ack.readings)
        statistics.duplicateBatches += Int64(clamping: ack.duplicateBatches)
        for latency in latenciesNs { statistics.latency.record(latency) }
        failureStreak = 0
    }

    /// The call in flight failed: keep its batches for a retry after a backoff, or drop them for good.
    private mutating func failCall(_ failure: DeviceFailure, at now: UInt64) {
        statistics.errors[failure.kind] += 1
        call = .idle
        if failure.isRetryable {
            queue.requeueInFlight()
            startBackoff(at: now)
        } else {
            for batch in queue.dropInFlight() {
                statistics.batchesDroppedRejected += 1
                statistics.readingsDropped += Int64(batch.readingCount)
            }
            if failure.isAuthenticationRefusal { stoppedBy = failure }
        }
    }

    /// Counts a failure in the streak and sets the time of the next attempt.
    private mutating func startBackoff(at now: UInt64) {
        failureStreak += 1
        retryAtNs = now + settings.backoff.delayNs(afterFailures: failureStreak, random: &random)
    }
}
