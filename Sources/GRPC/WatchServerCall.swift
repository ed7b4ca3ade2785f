// One Watch call on the server, from validated headers to final status, as a value that returns what to do; the
// collector subscribes to the store's commit feed and hands each followed batch back here to be framed.
//
// Rules: the request is exactly one WatchRequest, taken when the client half-closes (as for Push, a call that never
// completes its request costs no store work); a second message, a message that does not decode, or no message
// ends the call with INVALID_ARGUMENT, and so do device names outside the device-id rule, sensor names outside the
// sensor rule (all bad names are listed) and a negative `since_ms`. Response headers go out once the subscription
// is registered (or with the first message); each followed batch is one DeviceBatch message; the call ends with
// exactly one status, after which nothing more is produced.

import Telemetry

/// The server half of a `Watch` call: the rules above as a value, tested without a transport or a store.
public struct WatchServerCall {
    /// What the collector must do next.
    public enum Action: Equatable, Sendable {
        /// Subscribe with this validated request, then send `headers()` and `messages(...)` as batches commit.
        case start(WatchRequest)
        /// End the call with this status (`finish(with:)` gives the part to send).
        case fail(GRPCStatus)
    }

    private var deframer: GRPCMessageDeframer
    private let limits: DecodeLimits
    private var request: WatchRequest?
    private var failure: GRPCStatus?
    private var hasReceivedEnd = false
    /// True once the response headers were produced.
    public private(set) var hasSentHeaders = false
    /// True once the final status was produced (or the call was cancelled).
    public private(set) var isFinished = false
    /// True once the request was validated and the subscription asked for.
    public private(set) var isStarted = false

    /// A call whose head passed the router's and the authenticator's checks.
    public init(limits: DecodeLimits = .standard) {
        self.limits = limits
        self.deframer = GRPCMessageDeframer(maxMessageBytes: limits.maxMessageBytes)
    }

    /// Request messages received so far.
    public var messageCount: Int { deframer.messageCount }
    /// Bytes of a request message received in part.
    public var bufferedBytes: Int { deframer.bufferedBytes }
    /// True once the client half-closed (or the call finished).
    public var isRequestComplete: Bool { hasReceivedEnd || isFinished }

    // MARK: Request

    /// Feeds DATA payload; returns the failure that ends the call, if any.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer) -> Action? {
        guard !isFinished, !hasReceivedEnd, failure == nil else { return nil }
        var decoded = request
        let limits = self.limits
        do throws(GRPCDeframeErrorOr<GRPCStatus>) {
            try deframer.process(bytes) { (message: UnsafeRawBufferPointer) throws(GRPCStatus) in
                guard decoded == nil else {
                    throw GRPCStatus(.invalidArgument, "Watch takes exactly one WatchRequest")
                }
                do throws(DecodeError) {
                    decoded = try WatchRequest(protobuf: message, limits: limits)
                } catch {
                    throw GRPCStatus(.invalidArgument, "WatchRequest: \(error.description)")
                }
            }
        } catch {
            failure = error.status
            return .fail(error.status)
        }
        request = decoded
        return nil
    }

    /// The client half-closed: the validated request to start, or the failure.
    public mutating func receiveEnd() -> Action? {
        guard !isFinished, !hasReceivedEnd, failure == nil else { return nil }
        hasReceivedEnd = true
        if deframer.bufferedBytes > 0 {
            failure = GRPCStatus(.invalidArgument, "the stream ended inside a message")
        } else if let request {
            failure = Self.validate(request)
        } else {
            failure = GRPCStatus(.invalidArgument, "Watch takes exactly one WatchRequest; none was sent")
        }
        if let failure { return .fail(failure) }
        isStarted = true
        return .start(request!)
    }

    /// The request's problem, naming every bad name; nil when it is valid.
    public static func validate(_ request: WatchRequest) -> GRPCStatus? {
        var problems: [String] = []
        let badDevices = request.devices.filter { !Identifiers.isValidDeviceID($0) }
        if !badDevices.isEmpty {
            problems.append(
                "invalid device names \(badDevices.map { "\"\($0)\"" }.joined(separator: ", ")) "
                    + "(a device id matches [A-Za-z0-9._:-]{1,128})")
        }
        let badSensors = request.sensors.filter { !Identifiers.isValidSensorName($0) }
        if !badSensors.isEmpty {
            problems.append(
                "invalid sensor names \(badSensors.map { "\"\($0)\"" }.joined(separator: ", ")) "
                    + "(a sensor name matches [a-z0-9_.-]{1,64})")
        }
        if request.sinceMs < 0 { problems.append("since_ms must not be negative, got \(request.sinceMs)") }
        return problems.isEmpty ? nil : GRPCStatus(.invalidArgument, problems.joined(separator: "; "))
    }

    // MARK: Response

    /// The response headers, once (empty afterwards or once finished).
    public mutating func headers() -> [GRPCResponsePart] {
        guard !isFinished, !hasSentHeaders else { return [] }
        hasSentHeaders = true
        return [.headers(.responseHeaders)]
    }

    /// One DeviceBatch message for `device`'s readings (preceded by the headers if not sent yet).
    public mutating func message(device: String, readings: ReadingBatch) -> [GRPCResponsePart] {
        message(encoded: Self.encode(device: device, readings: readings))
    }

    /// One message already encoded by `encode` (shared by every watcher that sends the same batch).
    public mutating func message(encoded: [UInt8]) -> [GRPCResponsePart] {
        guard !isFinished else { return [] }
        return headers() + [.message(encoded)]
    }

    /// The DeviceBatch message for `device`'s readings.
    public static func encode(device: String, readings: ReadingBatch) -> [UInt8] {
        DeviceBatch(device: device, readings: readings).protobufBytes()
    }

    /// The final status, once; nothing after it.
    public mutating func finish(with status: GRPCStatus) -> [GRPCResponsePart] {
        guard !isFinished else { return [] }
        isFinished = true
        return [.status(status, trailers: GRPCMetadata())]
    }

    /// The call was cancelled (stream reset, connection gone): nothing more is produced.
    public mutating func cancel() {
        isFinished = true
    }
}

extension WatchServerCall {
    /// The method's path. (Watch is served by this call, not by the Telemetry router's handlers.)
    public static let path = "/telemetry.v1.Telemetry/Watch"

    /// The generic checks of a Watch request head (POST, gRPC content type, identity encoding, a well-formed
    /// `grpc-timeout`, in the order GRPCRouter.swift gives); routes to the parsed timeout.
    public static let router: GRPCRouter<UInt64?> = {
        var router = GRPCRouter<UInt64?>()
        router.register(WatchServerCall.path) { _, timeoutNanoseconds in timeoutNanoseconds }
        return router
    }()
}
