// The protocol names of the bandwidth report, spelled once. They are persisted (the store's counter rows), returned
// by the REST API (`protocol` fields and filters), compared by the simulator's cross-check and coloured by the
// dashboard, so a raw value here never changes: a new spelling is a new protocol.

/// The protocols the collector accounts bytes under: the first half of every bandwidth row's key.
public enum WireProtocol: String, CaseIterable, Sendable {
    /// gRPC `Upload`: a client stream of batches, one Ack.
    case grpcStream = "grpc-stream"
    /// gRPC `Push`: one batch, one Ack.
    case grpcUnary = "grpc-unary"
    /// gRPC `Sync`: a bidirectional stream of batches answered by Acks as they commit.
    case grpcSync = "grpc-sync"
    /// gRPC-Web (binary frames, `application/grpc-web[+proto]`) over HTTP/1.1 or HTTP/2: `Push` from browsers and
    /// devices without HTTP/2 trailers; its trailers travel as the body's last frame.
    case grpcWeb = "grpc-web"
    /// gRPC-Web's text form (`application/grpc-web-text`): the same frames in base64.
    case grpcWebText = "grpc-web-text"
    /// The Connect protocol's unary `Push` (`application/proto` or `application/json`, no frame prefix, real HTTP
    /// status codes).
    case connect = "connect"
    /// REST ingest (`POST /v1/devices/{device}/readings`) over HTTP/1.1.
    case restJSON = "rest-json"
    /// REST ingest over h2c.
    case restJSONH2 = "rest-json-h2"
    /// Every other REST request (reads, the dashboard, health, metrics), over either transport; and the calls to
    /// the standard gRPC services (Health, server reflection), which belong to no device either.
    case query = "query"
    /// HTTP/2 connections that never opened a stream.
    case h2c = "h2c"
    /// TLS connections closed before their inner protocol was known (failed or abandoned handshakes).
    case tls = "tls"
    /// gRPC `Watch`: a server stream of committed batches to a watcher (no device: its row is the overhead device).
    case watch = "watch"

    /// Device name of a protocol's overhead row: bytes that belong to no single device.
    public static let overheadDevice = ""

    /// The names as one JSON object keyed by case name (`{"grpcStream":"grpc-stream",…}`), for pages and scripts
    /// that must use the same spelling without repeating it.
    public static var namesJSON: String {
        let members = allCases.map { "\"\(String(describing: $0))\":\"\($0.rawValue)\"" }
        return "{" + members.joined(separator: ",") + "}"
    }
}
