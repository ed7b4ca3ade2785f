// The one place the simulator converts between the GRPC module's transport-neutral types and HTTP/2 header
// fields: a request head becomes a request header block; a response header block becomes an HTTP status plus
// metadata for `TelemetryClientResponse`.

import GRPC
import HTTP2

extension Array where Element == HTTP2HeaderField {
    /// The request header block of `head`: the pseudo-headers it has, in `:method :scheme :path :authority`
    /// order, then its metadata in order.
    init(_ head: GRPCRequestHead) {
        self.init()
        reserveCapacity(4 + head.metadata.count)
        let pseudo = [
            (":method", head.method), (":scheme", head.scheme), (":path", head.path),
            (":authority", head.authority),
        ]
        for case (let name, let value?) in pseudo { append(HTTP2HeaderField(name, value)) }
        for field in head.metadata { append(HTTP2HeaderField(field.name, field.value)) }
    }
}

extension TelemetryClientResponse {
    /// A response header block or trailers: `:status` (when present and numeric) and the metadata.
    mutating func receiveHeaders(_ fields: [HTTP2HeaderField]) {
        var metadata = GRPCMetadata()
        for field in fields where !field.name.hasPrefix(":") { metadata.append(field.name, field.value) }
        receiveHeaders(httpStatus: fields[":status"].flatMap { Int($0) }, metadata)
    }
}
