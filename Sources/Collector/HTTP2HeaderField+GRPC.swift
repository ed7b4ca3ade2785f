// The one place the collector converts between HTTP/2 header fields and the GRPC module's transport-neutral
// types: a request header block becomes a `GRPCRequestHead` (pseudo-headers to its fields, the rest to metadata in
// order); response metadata becomes header fields after `:status`.

import GRPC
import HTTP2

extension GRPCRequestHead {
    /// The head of an HTTP/2 request: `:method`, `:scheme`, `:path`, `:authority` (the first of each), every
    /// other field as metadata in order.
    init(http2Fields fields: [HTTP2HeaderField]) {
        self.init(method: nil, scheme: nil, path: nil, authority: nil)
        for field in fields {
            switch field.name {
            case ":method": if method == nil { method = field.value }
            case ":scheme": if scheme == nil { scheme = field.value }
            case ":path": if path == nil { path = field.value }
            case ":authority": if authority == nil { authority = field.value }
            case let name where name.hasPrefix(":"): break  // no other request pseudo-header means anything here
            default: metadata.append(field.name, field.value)
            }
        }
    }
}

extension Array where Element == HTTP2HeaderField {
    /// A response header block: `:status` then `metadata` in order.
    static func response(status: Int, _ metadata: GRPCMetadata) -> [HTTP2HeaderField] {
        var fields = [HTTP2HeaderField(":status", String(status))]
        fields.reserveCapacity(1 + metadata.count)
        for field in metadata { fields.append(HTTP2HeaderField(field.name, field.value)) }
        return fields
    }

    /// A trailer block: `metadata` in order.
    static func trailers(_ metadata: GRPCMetadata) -> [HTTP2HeaderField] {
        metadata.map { HTTP2HeaderField($0.name, $0.value) }
    }
}
