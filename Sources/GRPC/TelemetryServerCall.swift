// One Telemetry call on the server, from validated headers to final status, as a state machine that returns
// actions; the collector performs them (store submissions, responses) and reports store results back.
//
// Rules: each Batch is handed to the store as soon as it is decoded (an Upload's batches are not held until the
// end); the Ack goes out only when the client has half-closed and every submitted batch has committed, so an
// acknowledgement always means the data is committed; the first failure ends the call with its status and nothing
// more is submitted, while batches already submitted still complete in the store (a retry is deduplicated by
// `(device, seq)`); Push takes exactly one Batch, decoded (and validated) when it arrives but submitted only at
// END_STREAM, so a unary call that never completes (reset, rapid reset, stalled) costs no store work and a Push
// that fails stores nothing.
//
// Sync (bidirectional) submits like Upload but answers as batches commit: each Ack covers the batches committed
// since the previous Ack, in order (several when they committed together: the host takes the due Ack once per
// turn of its loop, `takeDueAck`), and after the client's end and the last commit the call ends OK. Upload and
// Sync decode each message through the stream's `StreamContext`, so a batch may leave out what the stream already
// said; Push refuses stream context.

import Telemetry

/// The server half of an `Upload` or `Push` call: the rules above as a value, tested without a transport
/// (`TelemetryCallHandler` carries it for the transports).
public struct TelemetryServerCall {
    /// What the collector must do next.
    public enum Action: Equatable, Sendable {
        /// Store this batch for the call's device; report the result with `committed` or `storeFailed`.
        case submit(ReadingBatch)
        /// Send the Ack as the response message, then OK trailers.
        case respond(Ack)
        /// Sync: send this Ack as the next response message (response headers first if none were sent).
        case acknowledge(Ack)
        /// Sync: end the call OK (every batch was acknowledged).
        case finishStream
        /// End the call with this status (Trailers-Only when no response headers were sent).
        case fail(GRPCStatus)
    }

    /// The request's validated headers.
    public let head: TelemetryRequestHead
    /// The Ack figures so far: batches received, readings stored, duplicates, highest seq.
    public private(set) var ack = Ack()
    /// True once the call has produced its final action (or was cancelled).
    public private(set) var isFinished = false
    private var deframer: GRPCMessageDeframer
    private let limits: DecodeLimits
    private var outstanding = 0
    /// Push: the decoded batch, waiting for END_STREAM, and the size of its message.
    private var heldPush: (batch: ReadingBatch, messageBytes: Int)?
    private var hasReceivedEnd = false
    /// Upload and Sync: what the stream said so far (stream context); nil for Push.
    private var streamContext: StreamContext?
    /// Sync: the figures of the batches committed since the last Ack.
    private var unacknowledged = Ack()

    /// A call whose head was validated; its messages and batches are decoded within `limits`.
    public init(head: TelemetryRequestHead, limits: DecodeLimits = .standard) {
        self.head = head
        self.limits = limits
        self.deframer = GRPCMessageDeframer(maxMessageBytes: limits.maxMessageBytes)
        if head.method != .push { streamContext = StreamContext(maxEntries: limits.maxSeriesPerBatch) }
    }

    /// Sync: batches committed since the last Ack, whose Ack the host should take (`takeDueAck`).
    public var hasDueAck: Bool { unacknowledged.batches > 0 && !isFinished }

    /// Messages received so far (each cost a 5-byte prefix on the wire).
    public var messageCount: Int { deframer.messageCount }
    /// Batches handed to the store and not yet committed.
    public var outstandingBatches: Int { outstanding }
    /// Bytes of a message received in part and held until the rest arrives (what a stalled client costs).
    public var bufferedBytes: Int { deframer.bufferedBytes + (heldPush?.messageBytes ?? 0) }
    /// True once the client half-closed (or the call finished): it is no longer waiting for request bytes.
    public var isRequestComplete: Bool { hasReceivedEnd || isFinished }

    /// Feeds DATA payload; returns the batches to submit, or the failure that ends the call.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer) -> [Action] {
        guard !isFinished else { return [] }
        var actions: [Action] = []
        let method = head.method
        let limits = self.limits
        var received = ack.batches
        var held = heldPush
        var context = streamContext
        defer { streamContext = context }
        do throws(GRPCDeframeErrorOr<GRPCStatus>) {
            try deframer.process(bytes) { (message: UnsafeRawBufferPointer) throws(GRPCStatus) in
                received += 1
                let batch = try Self.decode(message, number: received, method: method, limits: limits,
                                            context: &context)
                if method == .push { held = (batch, message.count) } else { actions.append(.submit(batch)) }
            }
        } catch {
            heldPush = nil
            return finish(with: actions, failure: error.status)
        }
        heldPush = held
        ack.batches = received
        outstanding += actions.count
        return actions
    }

    private static func decode(_ message: UnsafeRawBufferPointer, number: UInt64, method: TelemetryMethod,
                               limits: DecodeLimits, context: inout StreamContext?) throws(GRPCStatus)
        -> ReadingBatch
    {
        if method == .push && number > 1 {
            throw GRPCStatus(.unimplemented, "Push takes exactly one Batch; use Upload or Sync to stream several")
        }
        do {
            if context != nil { return ReadingBatch(try context!.decode(message, limits: limits)) }
            return ReadingBatch(try Batch(protobuf: message, limits: limits))
        } catch {
            throw GRPCStatus(.invalidArgument, "batch \(number): \(error.description)")
        }
    }

    /// The client half-closed the stream.
    public mutating func receiveEnd() -> [Action] {
        guard !isFinished else { return [] }
        hasReceivedEnd = true
        do {
            try deframer.finish()
        } catch {
            return finish(with: [], failure: error.status)
        }
        if head.method == .push {
            guard let held = heldPush else {
                return finish(with: [], failure: GRPCStatus(.unimplemented, "Push takes exactly one Batch, got none"))
            }
            heldPush = nil
            outstanding += 1
            return [.submit(held.batch)]
        }
        return respondIfDone()
    }

    /// A submitted batch committed: `readingsStored` new readings, or a duplicate; `lastSeq` is the device's
    /// highest stored seq afterwards.
    public mutating func committed(readingsStored: Int, isDuplicate: Bool, lastSeq: UInt64) -> [Action] {
        outstanding -= 1
        guard !isFinished else { return [] }
        ack.readings += UInt64(readingsStored)
        if isDuplicate { ack.duplicateBatches += 1 }
        ack.lastSeq = max(ack.lastSeq, lastSeq)
        if head.method == .sync {
            unacknowledged.batches += 1
            unacknowledged.readings += UInt64(readingsStored)
            if isDuplicate { unacknowledged.duplicateBatches += 1 }
            unacknowledged.lastSeq = ack.lastSeq
        }
        return respondIfDone()
    }

    /// Sync: the Ack of the batches committed since the last one, if any (and the end of the call once the client
    /// has ended and nothing is outstanding).
    public mutating func takeDueAck() -> [Action] {
        guard hasDueAck else { return [] }
        let due = unacknowledged
        unacknowledged = Ack()
        return [.acknowledge(due)]
    }

    /// A submitted batch could not be stored (overloaded or failing storage): the call fails with `status`.
    public mutating func storeFailed(_ status: GRPCStatus) -> [Action] {
        outstanding -= 1
        guard !isFinished else { return [] }
        return finish(with: [], failure: status)
    }

    /// The deadline from `grpc-timeout` passed before the call finished.
    public mutating func deadlineExpired() -> [Action] {
        guard !isFinished else { return [] }
        return finish(with: [], failure: GRPCStatus(.deadlineExceeded, "deadline of the call expired"))
    }

    /// The client reset the stream or the connection went away: nothing more is sent.
    public mutating func cancel() {
        isFinished = true
        heldPush = nil
    }

    private mutating func respondIfDone() -> [Action] {
        guard hasReceivedEnd, outstanding == 0, !isFinished else { return [] }
        guard head.method == .sync else {
            isFinished = true
            return [.respond(ack)]
        }
        let last = takeDueAck()
        isFinished = true
        return last + [.finishStream]
    }

    private mutating func finish(with submitted: [Action], failure: GRPCStatus) -> [Action] {
        // Batches decoded before the failure in the same chunk are still submitted: they were accepted.
        outstanding += submitted.count
        isFinished = true
        return submitted + [.fail(failure)]
    }
}
