// gRPC-Web's framing (grpc/grpc doc/PROTOCOL-WEB.md) on top of gRPC's: messages keep their 5-byte prefix, and the
// trailers travel in the body as the last frame: flag byte 0x80 (0x81 would be compressed, which we never send),
// the 4-byte big-endian length, then an HTTP/1-style header block of lower-case `name: value\r\n` lines. A
// Trailers-Only answer (an early error) puts the status in the response headers instead, with no body. The text
// forms (`application/grpc-web-text`) carry the same bytes in base64 (GRPCWebText).

/// The gRPC-Web content types and the trailer frame, shared by the collector's gRPC-Web transport and its clients.
public enum GRPCWebFraming {
    /// The flag byte of the trailer frame.
    public static let trailerFlag: UInt8 = 0x80

    /// How a gRPC-Web body is encoded, from its content type.
    public enum Encoding: Equatable, Sendable {
        /// `application/grpc-web` or `application/grpc-web+proto`: the frames as bytes.
        case binary
        /// `application/grpc-web-text` (or `+proto`): the frames in base64.
        case text
    }

    /// The encoding a `content-type` (or `accept`) value names, or nil when it is not gRPC-Web. Parameters after `;`
    /// are ignored and the comparison is case-insensitive, as for any media type.
    public static func encoding(ofContentType value: String) -> Encoding? {
        let type = value.split(separator: ";", maxSplits: 1).first.map {
            $0.trimmingCharacters(in: " \t").lowercased()
        } ?? ""
        switch type {
        case "application/grpc-web", "application/grpc-web+proto": return .binary
        case "application/grpc-web-text", "application/grpc-web-text+proto": return .text
        default: return nil
        }
    }

    /// The content type of a response in `encoding`.
    public static func contentType(_ encoding: Encoding) -> String {
        encoding == .binary ? "application/grpc-web+proto" : "application/grpc-web-text+proto"
    }

    /// The encoding of the response to a request of `requestEncoding`: text when the request is text or when its
    /// `accept` names `application/grpc-web-text` (a browser that cannot read binary bodies asks so).
    public static func responseEncoding(request requestEncoding: Encoding, accept: String?) -> Encoding {
        guard requestEncoding == .binary, let accept else { return requestEncoding }
        let asksText = accept.split(separator: ",").contains { encoding(ofContentType: String($0)) == .text }
        return asksText ? .text : .binary
    }

    /// `metadata` (response headers, or a Trailers-Only response's) with gRPC-Web's content type for `encoding` in
    /// place of gRPC's.
    public static func responseMetadata(_ metadata: GRPCMetadata, _ encoding: Encoding) -> GRPCMetadata {
        var rest = metadata
        rest.removeAll(named: "content-type")
        return ["content-type": contentType(encoding)] + rest
    }

    /// A request head as the router expects it: gRPC-Web's content type replaced by `application/grpc` (the router
    /// checks gRPC's rules; the encoding was read from the content type before).
    public static func routableHead(_ head: GRPCRequestHead) -> GRPCRequestHead {
        var routable = head
        routable.metadata.removeAll(named: "content-type")
        routable.metadata.append("content-type", "application/grpc")
        return routable
    }

    /// The bytes of one write of a response body in `encoding` (text: base64 with padding; several such writes
    /// concatenate into a valid grpc-web-text body).
    public static func body(_ bytes: [UInt8], _ encoding: Encoding) -> [UInt8] {
        encoding == .binary ? bytes : GRPCWebText.encode(bytes)
    }

    /// The trailer frame carrying `status` and any further `trailers`.
    public static func trailerFrame(_ status: GRPCStatus, trailers: GRPCMetadata = GRPCMetadata()) -> [UInt8] {
        var block: [UInt8] = []
        for field in status.trailers + trailers {
            block += Array(field.name.lowercased().utf8) + Array(": ".utf8) + Array(field.value.utf8) + [13, 10]
        }
        let length = UInt32(block.count)
        return [trailerFlag, UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
                UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)] + block
    }

    /// The fields of a trailer frame's header block (its payload, without the 5-byte prefix); nil when a line is not
    /// `name: value` or the block does not end with CRLF.
    public static func parseTrailerBlock(_ block: some Collection<UInt8>) -> GRPCMetadata? {
        var metadata = GRPCMetadata()
        let text = String(decoding: block, as: UTF8.self)
        guard text.isEmpty || text.hasSuffix("\r\n") else { return nil }
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { return nil }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingCharacters(in: " \t")
            metadata.append(name, value)
        }
        return metadata
    }
}

extension Substring {
    /// The substring without leading and trailing characters of `set`.
    fileprivate func trimmingCharacters(in set: String) -> String {
        var slice = self[...]
        while let first = slice.first, set.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, set.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
