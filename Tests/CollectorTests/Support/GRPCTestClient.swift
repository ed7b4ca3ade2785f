import Foundation
import GRPC
import HTTP2
import Telemetry

/// A blocking h2c client for tests: our nghttp2 client session pumped over a `RawClient`, so every byte on the
/// socket is counted client-side.
final class GRPCTestClient: HTTP2SessionDelegate {
    let raw: RawClient
    var session: HTTP2Session!
    private var responses: [Int32: TelemetryClientResponse] = [:]
    private var responseHeaders: [Int32: [HTTP2HeaderField]] = [:]
    private var bodies: [Int32: [UInt8]] = [:]
    private var closed: [Int32: UInt32] = [:]
    let authority: String

    init(port: UInt16) throws {
        raw = try RawClient(port: port)
        authority = "127.0.0.1:\(port)"
        session = HTTP2Session(role: .client, delegate: self)
    }

    func http2Session(_ session: HTTP2Session, didReceive event: HTTP2Event) {
        switch event {
        case .headers(let id, _, let fields, _, _):
            var metadata = GRPCMetadata()
            for field in fields where !field.name.hasPrefix(":") { metadata.append(field.name, field.value) }
            responses[id, default: TelemetryClientResponse()]
                .receiveHeaders(httpStatus: fields[":status"].flatMap { Int($0) }, metadata)
            if responseHeaders[id] == nil { responseHeaders[id] = fields }
        case .data(let id, let bytes):
            responses[id, default: TelemetryClientResponse()].receiveData(bytes)
            bodies[id, default: []].append(contentsOf: bytes)
            session.consume(streamID: id, count: bytes.count)
        case .streamClosed(let id, let code):
            closed[id] = code
        case .endStream, .goaway:
            break
        }
    }

    /// Sends what the session has queued.
    func flush() throws {
        var output: [UInt8] = []
        try session.drainOutput(into: &output, limit: 1 << 20)
        if !output.isEmpty { try raw.send(output) }
    }

    /// Pumps until `stream` closes (bounded by the socket timeout).
    func pump(until stream: Int32) throws {
        try flush()
        while closed[stream] == nil {
            let input = raw.receiveSome()
            guard !input.isEmpty else { throw RawClient.Failure(description: "connection ended or timed out") }
            try input.withUnsafeBytes { try session.receive($0) }
            try flush()
        }
    }

    /// Opens a call: returns its stream id (body sent with `send`, ended with `finish`).
    func open(_ method: String, deviceID: String?, extra: [HTTP2HeaderField] = [],
              contentType: String = "application/grpc", httpMethod: String = "POST") throws -> Int32 {
        var headers = [HTTP2HeaderField(":method", httpMethod), HTTP2HeaderField(":scheme", "http"),
                       HTTP2HeaderField(":path", method), HTTP2HeaderField(":authority", authority),
                       HTTP2HeaderField("content-type", contentType), HTTP2HeaderField("te", "trailers")]
        if let deviceID { headers.append(HTTP2HeaderField("device-id", deviceID)) }
        headers += extra
        let id = try session.submitRequest(headers, endStream: false)
        try flush()
        return id
    }

    func send(_ stream: Int32, _ bytes: [UInt8]) throws {
        session.send(streamID: stream, bytes)
        try flush()
    }

    /// Half-closes and waits for the outcome.
    func finish(_ stream: Int32) throws -> Result<Ack, GRPCStatus> {
        session.finish(streamID: stream)
        try pump(until: stream)
        return responses[stream, default: TelemetryClientResponse()].outcome(errorCode: closed[stream] ?? 0)
    }

    /// Waits for the outcome without half-closing (a server that answers early).
    func await(_ stream: Int32) throws -> Result<Ack, GRPCStatus> {
        try pump(until: stream)
        return responses[stream, default: TelemetryClientResponse()].outcome(errorCode: closed[stream] ?? 0)
    }

    /// One whole call: batches as messages, then the outcome.
    func call(_ method: TelemetryMethod, deviceID: String?, _ batches: [Batch], extra: [HTTP2HeaderField] = [])
        throws -> Result<Ack, GRPCStatus>
    {
        let id = try open(method.rawValue, deviceID: deviceID, extra: extra)
        for batch in batches { try send(id, GRPCMessageFramer.frame(batch.protobufBytes())) }
        return try finish(id)
    }

    /// The `:status` the server answered on a stream.
    func httpStatus(_ stream: Int32) -> Int? { responseHeaders[stream]?[":status"].flatMap { Int($0) } }

    /// The response body bytes of a stream.
    func body(_ stream: Int32) -> [UInt8] { bodies[stream] ?? [] }

    /// Says goodbye and closes the socket.
    func close() throws {
        session.submitGoaway()
        try? flush()
        raw.close()
    }
}

/// Batches for tests: `readings` readings of one sensor on a 1 s grid, in `seq`'s own 1000 s window (so batches
/// never share a timestamp).
enum TestBatches {
    static func batch(_ seq: UInt64, sensor: String = "temperature", readings: Int = 10, start: Int64 = 1_732_190_000_000)
        -> Batch
    {
        let deltas = (0..<readings).map { i -> Int64 in i == 0 ? 2154 + Int64(seq) : (i % 3 == 0 ? -1 : 1) }
        return Batch(seq: seq, series: [Series(sensor: sensor, exponent: -2, startMs: start + Int64(seq) * 1_000_000,
                                                intervalMs: 1000, mantissaDeltas: deltas)])
    }

    static func json(_ seq: UInt64, sensor: String = "temperature", readings: Int = 10) -> [UInt8] {
        ReadingBatch(batch(seq, sensor: sensor, readings: readings)).jsonBytes()
    }
}
