// The Push call of grpc-web, grpc-web-text and connect devices: one request per batch, over HTTP/1.1 on the
// device's keep-alive connection or, with `--web-http 2`, as one stream of the device's HTTP/2 connection
// (WebPush+HTTP2.swift); and the reading of its answer (WebPush+Outcome.swift). The wire contract, per form:
//
//     POST /telemetry.v1.Telemetry/Push HTTP/1.1      :method POST, :scheme http|https,
//     Host: <authority>                                :path /telemetry.v1.Telemetry/Push, :authority <authority>
//     Content-Type: application/grpc-web+proto | application/grpc-web-text | application/proto | application/json
//     x-grpc-web: 1                      (gRPC-Web)    Connect-Protocol-Version: 1    (Connect)
//     device-id: <device>
//     authorization: Bearer <token>      (when the device has a token)
//     Content-Length: <n>                              (HTTP/1.1 only: HTTP/2's DATA ends with END_STREAM)
//
// Both HTTPs carry the same fields in the same order (`fields`; HTTP/2 names lower-cased, no `te: trailers`: a
// browser cannot send it and neither form needs it). Body: gRPC-Web, the Batch's protobuf in one 5-byte-prefixed
// message frame (no trailers from a client); the text form, that frame in base64. Connect, the bare Batch: protobuf,
// or proto3 canonical JSON. The Batch is the one a grpc-unary device sends (`protobufBytes(packingDeltas:)`,
// `--packing`); Push allows no stream context. In JSON, `--packing` packs the same series as in protobuf
// (`packedDeltas`, base64), so both codecs carry the same fields.

import GRPC
import HTTP1
import Simulation
import Telemetry

/// How a device sends its Push (gRPC-Web or Connect, over HTTP/1.1 or HTTP/2); see above.
enum WebPush: Equatable, Sendable {
    /// gRPC-Web, binary or text.
    case grpcWeb(GRPCWebFraming.Encoding)
    /// Connect unary, in a codec.
    case connect(ConnectCodec)

    /// The form of `deviceProtocol`, or nil for a protocol that is not gRPC-Web or Connect.
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

    /// The request's header fields after the request line (HTTP/1.1) or the pseudo-headers (HTTP/2), in order,
    /// spelled as HTTP/1.1 sends them; Content-Length is HTTP/1.1's own.
    func fields(deviceID: String, authorization: String?) -> [(name: String, value: String)] {
        var fields = [(name: "Content-Type", value: contentType)]
        switch self {
        case .grpcWeb: fields.append(("x-grpc-web", "1"))
        case .connect: fields.append(("Connect-Protocol-Version", "1"))
        }
        fields.append(("device-id", deviceID))
        if let authorization { fields.append(("authorization", authorization)) }
        return fields
    }

    /// The whole HTTP/1.1 request (head and body) of one Push of `batch` by `deviceID`.
    func makeRequest(
        _ batch: Batch, deviceID: String, authorization: String?, authority: String, packsDeltas: Bool
    ) -> [UInt8] {
        var headers = HTTPHeaders()
        for field in fields(deviceID: deviceID, authorization: authorization) {
            headers.append(name: field.name, value: field.value)
        }
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
