// How a browser-friendly call (gRPC-Web, Connect) is routed at its head, whichever transport carries it
// (HTTP1RPCExchange over HTTP/1.1, the HTTP/2 connection's Connect streams): Connect's own headers
// (`Connect-Protocol-Version`, `Content-Encoding`, `Connect-Timeout-Ms`, which becomes the call's deadline), Watch
// (the admin token; over gRPC-Web, or Connect's server streaming: Connect's unary types cannot carry it), Push only
// in unary forms, Upload and Sync refused (a browser cannot stream a request), then the gRPC router's checks and the device's credentials. What it decides: the call
// to run or the refusal, and the bandwidth row (`grpc-web`, `grpc-web-text` or `connect` with the device once
// known; `watch` for Watch).

import Accounting
import CollectorService
import GRPC

/// The protocol and encodings a browser-friendly request speaks.
enum BrowserCallKind: Equatable {
    /// gRPC-Web in these request and response encodings.
    case grpcWeb(request: GRPCWebFraming.Encoding, response: GRPCWebFraming.Encoding)
    /// Connect's unary protocol in this codec.
    case connect(ConnectProtocol.Codec)
    /// Connect's streaming protocol (enveloped messages, an end-of-stream message) in this codec: Watch.
    case connectStream(ConnectProtocol.Codec)

    /// True for both Connect forms.
    var isConnect: Bool {
        switch self {
        case .grpcWeb: false
        case .connect, .connectStream: true
        }
    }
}

/// How a browser-friendly request was routed at its head (see the file comment).
enum BrowserCallRoute {
    /// A Push call, its handler made.
    case push(any TelemetryServerHandler)
    /// A Watch call with its `grpc-timeout`.
    case watch(timeoutNanoseconds: UInt64?)
    /// Refused with this status (gRPC-Web Trailers-Only, Connect error); `isUnread`: a credentials refusal,
    /// answered without reading the body.
    case refused(GRPCStatus, isUnread: Bool)
    /// Refused with an HTTP status (405, 415), as the gRPC spec answers requests that may not be gRPC at all.
    case refusedHTTP(RESTError)

    /// Routes the call and checks its credentials; returns the route and the call's bandwidth row.
    static func route(_ head: GRPCRequestHead, path: String, kind: BrowserCallKind, context: CollectorContext,
                      pskDevice: String?) -> (BrowserCallRoute, BandwidthKey) {
        let wireProtocol: WireProtocol
        switch kind {
        case .grpcWeb(let request, _): wireProtocol = WireProtocol(web: request)
        case .connect, .connectStream: wireProtocol = .connect
        }
        var head = head
        if kind.isConnect {
            // Connect's own headers; its timeout becomes the call's `grpc-timeout`.
            head.metadata.removeAll(named: "grpc-timeout")
            do throws(GRPCStatus) {
                if let timeout = try ConnectUnaryCall.checkHeaders(head.metadata) {
                    head.metadata.append("grpc-timeout", GRPCTimeout.format(nanoseconds: max(timeout, 1)))
                }
            } catch {
                return (.refused(error, isUnread: false), .overhead(wireProtocol))
            }
        }
        if path == WatchServerCall.path {
            let key = BandwidthKey(WireProtocol.watch, WireProtocol.overheadDevice)
            if case .connect = kind {
                return (.refused(GRPCStatus(.unimplemented, "Watch streams from the server: call it with gRPC-Web "
                                            + "(application/grpc-web+proto), Connect's streaming types "
                                            + "(application/connect+json, application/connect+proto) or gRPC"),
                                 isUnread: false), key)
            }
            do throws(GRPCRequestRejection) {
                let timeout = try WatchServerCall.router.route(head)
                if let refusal = context.authenticator.checkAdmin(authorization: head.metadata["authorization"]) {
                    return (.refused(refusal.grpcStatus, isUnread: true), key)
                }
                return (.watch(timeoutNanoseconds: timeout), key)
            } catch {
                return (refusal(error), key)
            }
        }
        if let method = TelemetryMethod(rawValue: path), let refusal = TelemetryMethod.webRefusal(method) {
            return (.refused(refusal, isUnread: false), .overhead(wireProtocol))
        }
        if case .connectStream = kind {
            return (.refused(GRPCStatus(.unimplemented, "\(path) is not a server-streaming method; call Push with "
                                        + "application/proto or application/json"), isUnread: false),
                    .overhead(wireProtocol))
        }
        do throws(GRPCRequestRejection) {
            let handler = try context.grpcRouter.route(head)
            let call = handler.head
            let key = BandwidthKey(wireProtocol, call.deviceID)
            if let refusal = context.authenticator.checkDevice(
                call.deviceID, authorization: call.authorization, connectionDevice: pskDevice)
            {
                return (.refused(refusal.grpcStatus, isUnread: true), key)
            }
            return (.push(handler), key)
        } catch {
            return (refusal(error), .overhead(wireProtocol))
        }
    }

    private static func refusal(_ rejection: GRPCRequestRejection) -> BrowserCallRoute {
        switch rejection {
        case .grpc(let status): .refused(status, isUnread: false)
        case .http(let status, let message):
            .refusedHTTP(RESTError(status, status == 405 ? "method_not_allowed" : "unsupported_media_type", message))
        }
    }

}
