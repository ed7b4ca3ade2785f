// The Push call of grpc-web, grpc-web-text and connect devices: one HTTP/1.1 request per batch on the device's
// keep-alive connection, and the reading of its answer (WebPush+Outcome.swift). The wire contract, per form:
//
//     POST /telemetry.v1.Telemetry/Push HTTP/1.1
//     Host: <authority>
//     Content-Type: application/grpc-web+proto | application/grpc-web-text | application/proto | application/json
//     x-grpc-web: 1                      (gRPC-Web)    Connect-Protocol-Version: 1    (Connect)
//     device-id: <device>
//     authorization: Bearer <token>      (when the device has a token)
//     Content-Length: <n>
//
// Body: gRPC-Web, the Batch's protobuf in one 5-byte-prefixed message frame (no trailers from a client); the text
// form, that frame in base64. Connect, the bare Batch: protobuf, or proto3 canonical JSON. The Batch is the one a
// grpc-unary device sends (`protobufBytes(packingDeltas:)`, `--packing`); Push allows no stream context. In JSON,
// `--packing` packs the same series as in protobuf (`packedDeltas`, base64), so both codecs carry the same fields.

import GRPC
import HTTP1
import Simulation
import Telemetry

/// How a device sends its Push over HTTP/1.1; see above.
enum WebPush: Equatable, Sendable {
    /// gRPC-Web, binary or text.
    case grpcWeb(GRPCWebFraming.Encoding)
    /// Connect unary, in a codec.
    case connect(ConnectCodec)

    /// The form of `deviceProtocol`, or nil for a protocol that does not push over HTTP/1.1.
    init?(_ deviceProtocol: DeviceProtocol, connectCodec: ConnectCodec) {
        switch deviceProtocol {
        case .grpcWeb: self = .grpcWeb(.binary)
        case .grpcWebText: self = .grpcWeb(.text)
        case .connect: self = .connect(connectCodec)
        case .grpcStream, .grpcUnary, .grpcSync, .rest: return nil
        }
    }

    /// The request's Content-Type.
    var contentType: String {
        switch self {
        case .grpcWeb(.binary): "application/grpc-web+proto"
        case .grpcWeb(.text): "application/grpc-web-text"
        case .connect(let codec): ConnectProtocol.unaryContentType(codec.protocolCodec)
        }
    }

    /// The request body carrying `batch`.
    func makeBody(_ batch: Batch, packsDeltas: Bool) -> [UInt8] {
        switch self {
        case .grpcWeb(.binary):
            GRPCMessageFramer.frame(batch.protobufBytes(packingDeltas: packsDeltas))
        case .grpcWeb(.text):
            GRPCWebText.encode(GRPCMessageFramer.frame(batch.protobufBytes(packingDeltas: packsDeltas)))
        case .connect(.proto):
            batch.protobufBytes(packingDeltas: packsDeltas)
        case .connect(.json):
            batch.protoJSONBytes(packingDeltas: packsDeltas)
        }
    }

    /// The whole request (head and body) of one Push of `batch` by `deviceID`.
    func makeRequest(
        _ batch: Batch, deviceID: String, authorization: String?, authority: String, packsDeltas: Bool
    ) -> [UInt8] {
        var headers = HTTPHeaders()
        headers.append(name: "Content-Type", value: contentType)
        switch self {
        case .grpcWeb: headers.append(name: "x-grpc-web", value: "1")
        case .connect: headers.append(name: "Connect-Protocol-Version", value: "1")
        }
        headers.append(name: "device-id", value: deviceID)
        if let authorization { headers.append(name: "authorization", value: authorization) }
        return HTTPRequestSerializer.makeRequest(
            method: "POST", target: TelemetryMethod.push.rawValue, host: authority, headers: headers,
            body: makeBody(batch, packsDeltas: packsDeltas))
    }
}

extension ConnectCodec {
    /// The codec in GRPC's terms, where Connect's content types are spelled.
    var protocolCodec: ConnectProtocol.Codec {
        switch self {
        case .proto: .proto
        case .json: .json
        }
    }
}
