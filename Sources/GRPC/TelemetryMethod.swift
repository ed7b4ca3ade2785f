import HTTP2
import Telemetry

/// The RPCs of `telemetry.v1.Telemetry`, with the protocol name each one is accounted under.
public enum TelemetryMethod: String, Sendable, CaseIterable {
    /// Client stream of batches, one Ack at the end.
    case upload = "/telemetry.v1.Telemetry/Upload"
    /// One batch, one Ack.
    case push = "/telemetry.v1.Telemetry/Push"

    /// The bandwidth report's protocol name for calls of this method.
    public var protocolName: String {
        switch self {
        case .upload: "grpc-stream"
        case .push: "grpc-unary"
        }
    }
}

/// What a valid Telemetry request's headers say.
public struct GRPCRequestHead: Equatable, Sendable {
    /// Which RPC.
    public var method: TelemetryMethod
    /// The `device-id` metadata, validated against `[A-Za-z0-9._:-]{1,128}`.
    public var deviceID: String
    /// `grpc-timeout` in nanoseconds, when the client set a deadline.
    public var timeoutNanoseconds: UInt64?
    /// The `authorization` metadata, when present (checked by the collector, never logged).
    public var authorization: String?

    public init(method: TelemetryMethod, deviceID: String, timeoutNanoseconds: UInt64? = nil,
                authorization: String? = nil) {
        self.method = method
        self.deviceID = deviceID
        self.timeoutNanoseconds = timeoutNanoseconds
        self.authorization = authorization
    }
}

/// How the server refuses a request at its headers.
public enum GRPCRequestRejection: Error, Equatable, Sendable {
    /// Not a gRPC request at the HTTP level (wrong method or content type): answer with this HTTP status.
    case http(status: Int, message: String)
    /// A gRPC request that fails: answer Trailers-Only with this status (plus `grpc-accept-encoding` for
    /// encoding problems).
    case grpc(GRPCStatus)
}

extension GRPCRequestHead {
    /// The `grpc-accept-encoding` the collector advertises: identity only (no compression library is allowed).
    public static let acceptedEncodings = "identity"

    /// Validates a request's headers in the order the gRPC spec prescribes: HTTP method, content type, path,
    /// encoding, timeout, then the contract's `device-id`.
    public init(headers: [HTTP2HeaderField]) throws(GRPCRequestRejection) {
        guard headers[":method"] == "POST" else {
            throw .http(status: 405, message: "gRPC requires POST, got \(headers[":method"] ?? "no method")")
        }
        guard let contentType = headers["content-type"], Self.isGRPCContentType(contentType) else {
            throw .http(status: 415, message: "content-type must be application/grpc, got "
                            + (headers["content-type"] ?? "none"))
        }
        let path = headers[":path"] ?? ""
        guard let method = TelemetryMethod(rawValue: path) else {
            throw .grpc(GRPCStatus(.unimplemented, "unknown method \(path); this server implements "
                                       + "/telemetry.v1.Telemetry/Upload and /telemetry.v1.Telemetry/Push"))
        }
        if let encoding = headers["grpc-encoding"], encoding != "identity" {
            throw .grpc(GRPCStatus(.unimplemented, "grpc-encoding \(encoding) is not supported; use identity"))
        }
        var timeout: UInt64?
        if let text = headers["grpc-timeout"] {
            guard let parsed = GRPCTimeout.parse(text) else {
                throw .grpc(GRPCStatus(.invalidArgument, "malformed grpc-timeout \"\(text)\""))
            }
            timeout = parsed
        }
        guard let deviceID = headers["device-id"] else {
            throw .grpc(GRPCStatus(.invalidArgument, "missing device-id metadata"))
        }
        guard Identifiers.isValidDeviceID(deviceID) else {
            throw .grpc(GRPCStatus(.invalidArgument, "invalid device-id: must match [A-Za-z0-9._:-]{1,128}"))
        }
        self.init(method: method, deviceID: deviceID, timeoutNanoseconds: timeout,
                  authorization: headers["authorization"])
    }

    /// `application/grpc`, optionally followed by `+format` or `;parameters`.
    public static func isGRPCContentType(_ value: String) -> Bool {
        let prefix = "application/grpc"
        guard value.hasPrefix(prefix) else { return false }
        let rest = value.dropFirst(prefix.count)
        return rest.isEmpty || rest.hasPrefix("+") || rest.hasPrefix(";")
    }

    /// The request headers a client sends for this call.
    public func requestHeaders(authority: String) -> [HTTP2HeaderField] {
        var fields = [
            HTTP2HeaderField(":method", "POST"), HTTP2HeaderField(":scheme", "http"),
            HTTP2HeaderField(":path", method.rawValue), HTTP2HeaderField(":authority", authority),
        ]
        if let timeoutNanoseconds {
            fields.append(HTTP2HeaderField("grpc-timeout", GRPCTimeout.format(nanoseconds: timeoutNanoseconds)))
        }
        fields += [
            HTTP2HeaderField("content-type", "application/grpc"), HTTP2HeaderField("te", "trailers"),
            HTTP2HeaderField("device-id", deviceID),
        ]
        if let authorization { fields.append(HTTP2HeaderField("authorization", authorization)) }
        return fields
    }
}

extension GRPCStatus {
    /// Response headers for a Trailers-Only response carrying this status.
    public var trailersOnlyHeaders: [HTTP2HeaderField] {
        var fields = [HTTP2HeaderField(":status", "200"), HTTP2HeaderField("content-type", "application/grpc")]
        fields += trailers
        if code == .unimplemented {
            fields.append(HTTP2HeaderField("grpc-accept-encoding", GRPCRequestHead.acceptedEncodings))
        }
        return fields
    }

    /// Trailer fields carrying this status.
    public var trailers: [HTTP2HeaderField] {
        var fields = [HTTP2HeaderField("grpc-status", String(code.rawValue))]
        if !message.isEmpty { fields.append(HTTP2HeaderField("grpc-message", GRPCMessageText.encode(message))) }
        return fields
    }

    /// Response headers that open a successful response (messages and trailers follow).
    public static let responseHeaders = [
        HTTP2HeaderField(":status", "200"), HTTP2HeaderField("content-type", "application/grpc"),
    ]
}
