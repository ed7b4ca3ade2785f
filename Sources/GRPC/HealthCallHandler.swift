// `grpc.health.v1.Health` (https://github.com/grpc/grpc/blob/master/doc/health-checking.md): Check, List, Watch.
//
// The server knows two services: "" (the server as a whole) and `telemetry.v1.Telemetry`; both are SERVING while
// the collector is ready (the `isServing` it is given: the same decision as `/readyz`) and NOT_SERVING otherwise.
// Check (unary) answers at the client's end: the status, or NOT_FOUND for a service it does not know. List (unary)
// answers every known service's status. Watch (server stream) answers as soon as its request arrives, then again
// at each `poll` whose status differs from the last one sent; an unknown service gets SERVICE_UNKNOWN and the call
// stays open, as the protocol asks. Every method takes exactly one request message (UNIMPLEMENTED otherwise, like
// Push); a request that is not valid protobuf is INVALID_ARGUMENT.

import Telemetry

/// One call to the Health service (see the file comment); transport-neutral, driven by its transport.
public final class HealthCallHandler: StandardServiceHandler {
    /// The methods of `grpc.health.v1.Health`, by path.
    public enum Method: String, Sendable, CaseIterable {
        /// The status of one service, once.
        case check = "/grpc.health.v1.Health/Check"
        /// Every known service's status, once.
        case list = "/grpc.health.v1.Health/List"
        /// The status of one service now and at every change.
        case watch = "/grpc.health.v1.Health/Watch"
    }

    /// The path prefix every method of the service shares.
    public static let servicePathPrefix = "/grpc.health.v1.Health/"
    /// The service names Check and Watch know: the server as a whole, and the Telemetry service.
    public static let knownServices = ["", String(TelemetryMethod.servicePathPrefix.dropFirst().dropLast())]
    /// Largest request accepted: a service name, not a payload.
    static let maxRequestBytes = 16 << 10

    /// Which method the call is.
    public let method: Method
    /// The call's `grpc-timeout`, for the transport's deadline (a Watch without one runs until cancelled).
    public let timeoutNanoseconds: UInt64?
    private let isServing: @Sendable () -> Bool
    private var deframer = GRPCMessageDeframer(maxMessageBytes: maxRequestBytes)
    /// The service asked about, once the request message arrived ("" for List, which names none).
    private var service: String?
    /// Watch: the status last sent.
    private var lastSent: HealthServingStatus?
    private var hasEnded = false
    /// True once the call produced its final status or was cancelled.
    public private(set) var isFinished = false

    /// A call to `method`; `isServing` says whether the collector takes traffic now.
    public init(method: Method, timeoutNanoseconds: UInt64? = nil, isServing: @escaping @Sendable () -> Bool) {
        self.method = method
        self.timeoutNanoseconds = timeoutNanoseconds
        self.isServing = isServing
    }

    /// Request messages received so far.
    public var messageCount: Int { deframer.messageCount }
    /// Bytes of a request message received in part.
    public var bufferedBytes: Int { deframer.bufferedBytes }
    /// True once the client half-closed or the call finished.
    public var isRequestComplete: Bool { hasEnded || isFinished }

    /// The status of `service` now: nil for a service this server does not know.
    public func servingStatus(of service: String) -> HealthServingStatus? {
        guard Self.knownServices.contains(service) else { return nil }
        return isServing() ? .serving : .notServing
    }

    /// Request bytes: the request message is decoded as it completes; a Watch answers it at once.
    public func receive(_ bytes: UnsafeRawBufferPointer) -> [GRPCResponsePart] {
        guard !isFinished else { return [] }
        var parts: [GRPCResponsePart] = []
        do throws(GRPCDeframeErrorOr<GRPCStatus>) {
            try deframer.process(bytes) { (message: UnsafeRawBufferPointer) throws(GRPCStatus) in
                parts += try accept(Array(message))
            }
        } catch {
            return parts + end(with: error.status)
        }
        return parts
    }

    /// The client's end: Check and List answer now; a Watch goes on.
    public func receiveEnd() -> [GRPCResponsePart] {
        guard !isFinished else { return [] }
        hasEnded = true
        do { try deframer.finish() } catch { return end(with: error.status) }
        guard let service else {
            return end(with: GRPCStatus(.unimplemented, "\(method.name) takes exactly one request message, got none"))
        }
        switch method {
        case .check:
            guard let status = servingStatus(of: service) else {
                return end(with: GRPCStatus(.notFound, "unknown service \"\(service)\"; this server knows "
                                            + Self.knownServices.map { "\"\($0)\"" }.joined(separator: " and ")))
            }
            return respond(status.responseBytes)
        case .list:
            return respond(listResponseBytes())
        case .watch:
            return []  // a Watch goes on after the client's end, until the client cancels or the transport ends it
        }
    }

    /// A Watch sends the status when it differs from the last one sent; other methods have nothing to say.
    public func poll() -> [GRPCResponsePart] {
        guard method == .watch, !isFinished, let service, let lastSent else { return [] }
        let status = servingStatus(of: service) ?? .serviceUnknown
        guard status != lastSent else { return [] }
        self.lastSent = status
        return [.message(status.responseBytes)]
    }

    /// The transport ends the call with `status`, unless it already finished.
    public func end(with status: GRPCStatus) -> [GRPCResponsePart] {
        guard !isFinished else { return [] }
        isFinished = true
        return [.status(status, trailers: GRPCMetadata())]
    }

    /// The client or the transport went away: nothing more is sent.
    public func cancel() {
        isFinished = true
    }

    /// Takes the request message: its service name, and for Watch the first answer at once.
    private func accept(_ message: [UInt8]) throws(GRPCStatus) -> [GRPCResponsePart] {
        guard service == nil else {
            throw GRPCStatus(.unimplemented, "\(method.name) takes exactly one request message")
        }
        // HealthCheckRequest: `string service = 1`; HealthListRequest has no fields (any given are ignored).
        let named: ProtobufField?
        do throws(DecodeError) {
            named = try ProtobufField.fields(of: message).last { $0.number == 1 }
        } catch {
            throw GRPCStatus(.invalidArgument, "invalid \(method.name) request: \(error.description)")
        }
        var requested = ""
        if method != .list, let named {
            guard let name = named.string else {
                throw GRPCStatus(.invalidArgument, "HealthCheckRequest.service is not a UTF-8 string")
            }
            requested = name
        }
        service = requested
        guard method == .watch else { return [] }
        let status = servingStatus(of: requested) ?? .serviceUnknown
        lastSent = status
        return [.headers(.responseHeaders), .message(status.responseBytes)]
    }

    /// The response headers, one message and OK.
    private func respond(_ message: [UInt8]) -> [GRPCResponsePart] {
        isFinished = true
        return [.headers(.responseHeaders), .message(message), .status(.ok, trailers: GRPCMetadata())]
    }

    /// `HealthListResponse`: `map<string, HealthCheckResponse> statuses = 1`, one entry (key 1, value 2) per
    /// known service.
    private func listResponseBytes() -> [UInt8] {
        let status: HealthServingStatus = isServing() ? .serving : .notServing
        var writer = ProtobufMessageWriter()
        for name in Self.knownServices {
            var entry = ProtobufMessageWriter()
            entry.appendString(1, name)
            entry.appendLengthDelimited(2, status.responseBytes)
            writer.appendLengthDelimited(1, entry.bytes)
        }
        return writer.bytes
    }
}

extension HealthCallHandler.Method {
    /// The method's name without its service (`Check`).
    public var name: String { String(rawValue.dropFirst(HealthCallHandler.servicePathPrefix.count)) }
}
