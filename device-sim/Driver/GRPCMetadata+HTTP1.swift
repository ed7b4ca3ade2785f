// The one place the simulator converts HTTP/1.1 response headers into the GRPC module's metadata, for gRPC-Web
// answers (as HTTP2HeaderField+GRPC.swift does for HTTP/2 header blocks).

import GRPC
import HTTP1

extension GRPCMetadata {
    /// The header fields of an HTTP/1.1 message, in order (names lower-cased by `GRPCMetadata`).
    init(_ headers: HTTPHeaders) {
        self.init()
        for field in headers { append(field.name, field.value) }
    }
}
