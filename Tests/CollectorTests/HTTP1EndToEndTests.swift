import Foundation
import Testing
import Telemetry
@testable import Collector
@testable import CollectorService

/// The collector over HTTP/1.1, through raw sockets: ingest, durability, every limit and error status, keep-alive,
/// pipelining, chunked bodies, 100-continue, HTTP/1.0, timeouts.
@Suite(.serialized) struct HTTP1EndToEndTests {
    static func post(_ device: String, _ body: [UInt8], extra: String = "", contentType: String = "application/json")
        -> [UInt8]
    {
        Array("POST /v1/devices/\(device)/readings HTTP/1.1\r\nHost: t\r\nContent-Type: \(contentType)\r\n\(extra)"
                .utf8) + Array("Content-Length: \(body.count)\r\n\r\n".utf8) + body
    }

    static func json(_ body: [UInt8]) throws -> JSONValue { try JSONValue.parse(body) }

    @Test func ackedReadingsAreInTheDatabaseFile() throws {
        let collector = try TestCollector()
        let client = try RawClient(port: collector.port)
        try client.send(Self.post("dev-1", TestBatches.json(1)))
        let response = try client.readResponse()
        #expect(response.status == 200)
        #expect(try Self.json(response.body) == Self.json(Array(#"{"batches":1,"readings":10,"duplicate_batches":0,"last_seq":1}"#.utf8)))
        // Read through `collector sql`'s SQLConsole, an independent reader of the file, right after the Ack.
        let rows = try collector.query("SELECT sensor, ts, value FROM readings_view WHERE device = 'dev-1' ORDER BY ts")
        let expected = ReadingBatch(TestBatches.batch(1)).readings.map { "\($0.sensor)|\($0.ts)|\($0.value)" }
        #expect(rows == expected)
    }

    @Test func retriedBatchIsADuplicateAndKeepAliveCarriesOn() throws {
        let collector = try TestCollector()
        let client = try RawClient(port: collector.port)
        for _ in 0..<2 { try client.send(Self.post("dev-2", TestBatches.json(7))) }
        let first = try Self.json(client.readResponse().body)
        let second = try Self.json(client.readResponse().body)
        #expect(first["readings"]?.int64Value == 10 && first["duplicate_batches"]?.int64Value == 0)
        #expect(second["readings"]?.int64Value == 0 && second["duplicate_batches"]?.int64Value == 1)
        #expect(second["last_seq"]?.int64Value == 7)
        #expect(try collector.query("SELECT count(*) FROM readings_view WHERE device = 'dev-2'") == ["10"])
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let collector = try TestCollector()
        let client = try RawClient(port: collector.port)
        try client.send((1...5).flatMap { Self.post("dev-3", TestBatches.json(UInt64($0))) }
                        + Array("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n".utf8))
        for seq in 1...5 {
            let response = try client.readResponse()
            #expect(response.status == 200)
            #expect(try Self.json(response.body)["last_seq"]?.int64Value == Int64(seq))
        }
        #expect(try client.readResponse(to: "GET").body == Array(#"{"status":"ok"}"#.utf8))
    }

    @Test func chunkedBodyHTTP10AndConnectionClose() throws {
        let collector = try TestCollector()
        let body = TestBatches.json(1)
        let chunked = try RawClient(port: collector.port)
        try chunked.send("POST /v1/devices/c1/readings HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                         + "Transfer-Encoding: chunked\r\n\r\n")
        let half = body.count / 2
        try chunked.send(Array(String(half, radix: 16).utf8) + [13, 10] + body[..<half] + [13, 10])
        try chunked.send(Array(String(body.count - half, radix: 16).utf8) + [13, 10] + body[half...] + Array("\r\n0\r\n\r\n".utf8))
        #expect(try chunked.readResponse().status == 200)

        let old = try RawClient(port: collector.port)
        try old.send(Array("POST /v1/devices/c2/readings HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body)
        let answer = old.receiveSome() + old.receiveSome()
        #expect(String(decoding: answer.prefix(17), as: UTF8.self) == "HTTP/1.0 200 OK\r\n")
        #expect(old.waitForClose())

        let closing = try RawClient(port: collector.port)
        try closing.send(Self.post("c3", body, extra: "Connection: close\r\n"))
        let response = try closing.readResponse()
        #expect(response.status == 200 && response.headers["connection"] == "close")
        #expect(closing.waitForClose())
    }

    @Test func expectContinueGetsTheGoAheadOrAnEarlyRefusal() throws {
        let collector = try TestCollector()
        let body = TestBatches.json(1)
        let client = try RawClient(port: collector.port)
        try client.send("POST /v1/devices/e1/readings HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                        + "Expect: 100-continue\r\nContent-Length: \(body.count)\r\n\r\n")
        #expect(try client.readResponse().status == 100)
        try client.send(body)
        #expect(try client.readResponse().status == 200)

        let refused = try RawClient(port: collector.port)
        try refused.send("POST /v1/devices/e1/readings HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
                         + "Expect: 100-continue\r\nContent-Length: \(body.count)\r\n\r\n")
        let response = try refused.readResponse()
        #expect(response.status == 415)
        #expect(refused.waitForClose())
    }

    /// A raw request and the status it must get; `closes`: the connection must then close.
    struct Refusal: Sendable, CustomTestStringConvertible {
        let name: String
        let request: [UInt8]
        let status: Int
        let closes: Bool
        let messageContains: String
        var testDescription: String { name }
    }

    static let refusals: [Refusal] = {
        let body = Array(#"{"seq":1,"readings":[]}"#.utf8)
        return [
            Refusal(name: "request line over 8 KiB", request: Array(("GET /" + String(repeating: "a", count: 9000)
                + " HTTP/1.1\r\nHost: t\r\n\r\n").utf8), status: 414, closes: true, messageContains: "longer than 8192"),
            Refusal(name: "header block over 16 KiB", request: Array(("GET /healthz HTTP/1.1\r\nHost: t\r\nX-Big: "
                + String(repeating: "b", count: 17_000) + "\r\n\r\n").utf8), status: 431, closes: true, messageContains: "larger than 16384"),
            Refusal(name: "body over 1 MiB", request: Array(("POST /v1/devices/d/readings HTTP/1.1\r\nHost: t\r\n"
                + "Content-Type: application/json\r\nContent-Length: 2000000\r\n\r\n").utf8), status: 413, closes: true,
                messageContains: "1048576-byte body limit"),
            Refusal(name: "Content-Length with Transfer-Encoding", request: Array(("POST /v1/devices/d/readings HTTP/1.1\r\n"
                + "Host: t\r\nContent-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n").utf8),
                status: 400, closes: true, messageContains: "Transfer-Encoding"),
            Refusal(name: "invalid Content-Length", request: Array(("POST /v1/devices/d/readings HTTP/1.1\r\nHost: t\r\n"
                + "Content-Type: application/json\r\nContent-Length: +5\r\n\r\n").utf8), status: 400, closes: true,
                messageContains: "Content-Length"),
            Refusal(name: "malformed request line", request: Array("GET  / HTTP/1.1\r\nHost: t\r\n\r\n".utf8), status: 400,
                closes: true, messageContains: "malformed request line"),
            Refusal(name: "unknown path", request: Array("GET /nope HTTP/1.1\r\nHost: t\r\n\r\n".utf8), status: 404,
                closes: false, messageContains: "/nope"),
            Refusal(name: "wrong method", request: Array("DELETE /v1/devices/d/readings HTTP/1.1\r\nHost: t\r\n\r\n".utf8),
                status: 405, closes: false, messageContains: "allowed: GET, HEAD, POST"),
            Refusal(name: "POST without body", request: Array("POST /v1/devices/d/readings HTTP/1.1\r\nHost: t\r\n\r\n".utf8),
                status: 411, closes: false, messageContains: "Content-Length"),
            Refusal(name: "wrong content type", request: post("d", body, contentType: "text/csv"), status: 415, closes: false,
                messageContains: "text/csv"),
            Refusal(name: "invalid device id", request: post("bad%20id", body), status: 400, closes: false,
                messageContains: "device id"),
            Refusal(name: "bad field names the field and index", request: post("d", Array(
                #"{"seq":1,"readings":[{"sensor":"t","ts":1,"value":1},{"sensor":"t","ts":1.5,"value":1}]}"#.utf8)),
                status: 400, closes: false, messageContains: "readings[1].ts: expected integer"),
        ]
    }()

    @Test(arguments: refusals)
    func refusesWithTheRightStatus(_ refusal: Refusal) throws {
        let collector = try TestCollector()
        let bystander = try RawClient(port: collector.port)
        let client = try RawClient(port: collector.port)
        try client.send(refusal.request)
        let response = try client.readResponse()
        #expect(response.status == refusal.status)
        if response.headers["content-type"] == "application/json" || refusal.status < 500 {
            let error = try Self.json(response.body)
            #expect(error["error"]?.stringValue?.isEmpty == false)
            #expect(error["message"]?.stringValue?.contains(refusal.messageContains) == true,
                    "\(String(decoding: response.body, as: UTF8.self))")
        }
        if refusal.status == 405 { #expect(response.headers["allow"] == "GET, HEAD, POST") }
        if refusal.closes {
            #expect(client.waitForClose())
        } else {
            try client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
            #expect(try client.readResponse(to: "GET").status == 200)
        }
        // Other connections are unaffected.
        try bystander.send(Self.post("bystander", TestBatches.json(1)))
        #expect(try bystander.readResponse().status == 200)
    }

    @Test func slowHeadGets408AndOthersAreServed() throws {
        let collector = try TestCollector { $0.headerTimeoutMs = 300 }
        let slow = try RawClient(port: collector.port)
        try slow.send("POST /v1/devices/s/readings HTTP/1.1\r\nHost: t\r\n")
        let silent = try RawClient(port: collector.port)
        let other = try RawClient(port: collector.port)
        try other.send(Self.post("fast", TestBatches.json(1)))
        #expect(try other.readResponse().status == 200)
        #expect(try slow.readResponse().status == 408)
        #expect(slow.waitForClose())
        #expect(try silent.readResponse().status == 408)
    }
}
