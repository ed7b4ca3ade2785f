// A grpc-web, grpc-web-text or connect Push over HTTP/2 (`--web-http 2`), as a browser sends it over TLS: one stream
// of the device's HTTP/2 connection (the client session the gRPC devices use), the request HTTP/1.1 would send
// (`WebPush.fields`) as a header block, then the body in DATA with END_STREAM.
//
//     :method POST, :scheme http (h2c) | https (TLS), :path /telemetry.v1.Telemetry/Push, :authority <authority>,
//     content-type, x-grpc-web: 1 | connect-protocol-version: 1, device-id, authorization (when set)
//
// The answer is the response HEADERS and DATA; trailers are not used by either form (gRPC-Web's status is in its
// trailer frame inside DATA, or in the headers of a Trailers-Only response; Connect's is the HTTP status, its body the
// Ack or the JSON error), so a later header block is ignored, as is an interim (1xx) one. When the stream closes, the
// collected status, headers and body are judged by the reader HTTP/1.1 uses (`WebPush.outcome(status:headers:body:)`).
// A stream that ends without response headers, or is reset, is judged as gRPC judges it (REFUSED_STREAM unavailable,
// ENHANCE_YOUR_CALM resource_exhausted, ...: `TelemetryClientResponse.outcome(errorCode:)`), for both forms. A body
// past HTTP/1.1's response body limit is refused at the DATA frame that passes it, before it is kept.

import GRPC
import HTTP1
import HTTP2
import Telemetry

extension WebPush {
    /// The HTTP/2 request header block of one Push by `deviceID`: the pseudo-headers, then `fields` lower-cased.
    func makeHTTP2Fields(
        deviceID: String, authorization: String?, authority: String, isTLS: Bool
    ) -> [HTTP2HeaderField] {
        var block = [
            HTTP2HeaderField(":method", "POST"), HTTP2HeaderField(":scheme", isTLS ? "https" : "http"),
            HTTP2HeaderField(":path", TelemetryMethod.push.rawValue), HTTP2HeaderField(":authority", authority),
        ]
        for field in fields(deviceID: deviceID, authorization: authorization) {
            block.append(HTTP2HeaderField(field.name.lowercased(), field.value))
        }
        return block
    }
}

/// One gRPC-Web or Connect Push's answer on an HTTP/2 stream, collected until the stream closes; see above.
struct WebPushHTTP2Response {
    /// Largest body kept: HTTP/1.1's response body limit, so both HTTPs refuse the same answers.
    static let maxBodyBytes = HTTPLimits.standard.maxBodyBytes

    private let form: WebPush
    private var status: Int?
    private var headers = HTTPHeaders()
    private var body: [UInt8] = []
    private var isOverLimit = false

    /// Nothing received yet for a Push sent as `form`.
    init(form: WebPush) {
        self.form = form
    }

    /// A header block: the first final one is the response's (`:status` and its fields); interim (1xx) blocks, as
    /// HTTP/1.1's reader skips them, and later ones (trailers) are ignored.
    mutating func receiveHeaders(_ fields: [HTTP2HeaderField]) {
        guard status == nil else { return }
        let code = fields[":status"].flatMap { Int($0) } ?? 0
        guard !(100..<200).contains(code) else { return }
        status = code
        for field in fields where !field.name.hasPrefix(":") { headers.append(name: field.name, value: field.value) }
    }

    /// A DATA payload.
    mutating func receiveData(_ bytes: UnsafeRawBufferPointer) {
        guard !isOverLimit else { return }
        guard body.count + bytes.count <= Self.maxBodyBytes else {
            isOverLimit = true
            body = []
            return
        }
        body += bytes
    }

    /// The stream closed (`errorCode` from RST_STREAM, 0 otherwise): what the answer means for the device.
    func outcome(errorCode: UInt32) -> CallOutcome {
        if isOverLimit { return .failed(.malformedResponse) }
        guard let status, errorCode == 0 else {
            // No answer (or a reset one): gRPC's rule for a stream that ended without a status.
            switch TelemetryClientResponse().outcome(errorCode: errorCode) {
            case .success(let ack): return .acked(ack)
            case .failure(let status): return .failed(.grpcStatus(status.code.rawValue))
            }
        }
        return form.outcome(status: status, headers: headers, body: body)
    }
}
