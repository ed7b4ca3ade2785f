import Telemetry
import Testing
@testable import Collector
@testable import CollectorService

/// One Content-Type check for REST ingest, and the same answer over HTTP/1.1 and h2c.
@Suite(.serialized) struct RESTIngestTests {
    @Test(arguments: [
        ("application/json", nil),
        ("Application/JSON ; charset=utf-8", nil),
        (nil, "Content-Type must be application/json (none given)"),
        ("text/plain", "Content-Type must be application/json, got text/plain"),
        ("", "Content-Type must be application/json, got "),
        (";", "Content-Type must be application/json, got ;"),  // no media type at all
    ] as [(String?, String?)])
    func contentTypeCheck(contentType: String?, message: String?) {
        let refusal = RESTIngest.contentTypeRefusal(contentType)
        #expect(refusal?.message == message)
        if let refusal { #expect(refusal.status == 415 && refusal.code == "unsupported_media_type") }
    }

    /// h2c used to index the media type of `;` or an empty value out of range and crash the collector.
    @Test(arguments: ["text/plain", "", ";"])
    func http1AndH2CAnswerTheSame415(contentType: String) throws {
        let collector = try TestCollector()
        let body = TestBatches.json(1)
        let http1 = try RawClient(port: collector.port)
        defer { http1.close() }
        try http1.send(HTTP1EndToEndTests.post("ct", body, contentType: contentType))
        let overHTTP1 = try http1.readResponse()
        let h2c = try GRPCTestClient(port: collector.port)
        let stream = try h2c.open("/v1/devices/ct/readings", deviceID: nil, contentType: contentType)
        try h2c.send(stream, body)
        _ = try h2c.finish(stream)
        try h2c.close()
        #expect(overHTTP1.status == 415)
        #expect(h2c.httpStatus(stream) == 415)
        #expect(try HTTP1EndToEndTests.json(overHTTP1.body) == HTTP1EndToEndTests.json(h2c.body(stream)))
    }
}
