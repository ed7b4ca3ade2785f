// The contract between a transport and one call to a standard gRPC service (Health, server reflection): calls that
// belong to no device and touch no store, so they need none of the Telemetry calls' policy (device-id, credentials,
// revocation, store outcomes). The transport feeds request bytes and the end, calls `poll` about once a second while
// the call is open (Watch re-reads the serving status then), ends the call for limits it enforces (deadline, held
// bytes, idleness, shutdown), and writes every part returned, in order.

/// One call to a standard gRPC service on the server, as its transport drives it. A reference type so that the
/// transport's timers reach the call they belong to without any lookup.
public protocol StandardServiceHandler: AnyObject {
    /// The `grpc-timeout` of the call, in nanoseconds; the transport ends the call with DEADLINE_EXCEEDED after it.
    var timeoutNanoseconds: UInt64? { get }
    /// Request messages received so far (each cost a 5-byte prefix on the wire).
    var messageCount: Int { get }
    /// Request bytes held while waiting for the rest of a message.
    var bufferedBytes: Int { get }
    /// True once the client half-closed or the call finished: it is no longer waiting for request bytes.
    var isRequestComplete: Bool { get }
    /// True once the call produced its final status or was cancelled.
    var isFinished: Bool { get }

    /// Request message bytes (length-prefixed messages, split anywhere); the pointer is valid only during the call.
    func receive(_ bytes: UnsafeRawBufferPointer) -> [GRPCResponsePart]
    /// The client half-closed its side.
    func receiveEnd() -> [GRPCResponsePart]
    /// About once a second while the call is open: whatever changed since the last look (a Watch's new status).
    func poll() -> [GRPCResponsePart]
    /// The transport ends the call with `status` (its deadline passed, a limit, shutdown): the final part, unless
    /// the call already finished.
    func end(with status: GRPCStatus) -> [GRPCResponsePart]
    /// The client or the transport went away: nothing more is sent.
    func cancel()
}
