import Glibc
import HTTP1
import Testing

/// A measurement, not an assertion: how many typical REST ingest requests per second the request parser handles on
/// one core. Runs only with `HTTP1_MEASURE=1`; meaningful only in a release build:
///
///     HTTP1_MEASURE=1 swift test -c release -Xswiftc -enable-testing --filter ParserThroughput
@Suite struct ParserThroughputTests {
    /// A 2 KiB JSON batch behind a 150-byte head, the shape of a device's REST ingest call.
    static let request: [UInt8] = {
        let body = wire(
            "{\"readings\":["
                + Array(repeating: "{\"sensor\":\"temp\",\"ts\":1700000000000,\"value\":21.5}", count: 40)
                .joined(separator: ",") + "]}")
        let head = wire(
            "POST /v1/devices/dev-000123/readings HTTP/1.1\r\n"
                + "Host: collector:8080\r\n"
                + "User-Agent: fleetwire-device-sim/1.0\r\n"
                + "Content-Type: application/json\r\n"
                + "Content-Length: \(body.count)\r\n\r\n")
        return head + body
    }()

    @Test(.enabled(if: getenv("HTTP1_MEASURE") != nil))
    func measureRequestsPerSecond() {
        let perBuffer = 1000
        let buffer = Array([[UInt8]](repeating: ParserThroughputTests.request, count: perBuffer).joined())
        var requestCount = 0
        var payloadBytes = 0
        let clock = ContinuousClock()
        let start = clock.now
        var elapsed = Duration.zero
        while elapsed < .seconds(2) {
            var parser = HTTPRequestParser()
            buffer.withUnsafeBytes { bytes in
                var offset = 0
                while true {
                    let step = parser.parse(UnsafeRawBufferPointer(rebasing: bytes[offset...]))
                    offset += step.consumed
                    switch step.event {
                    case .end(let end):
                        requestCount += 1
                        payloadBytes += end.body.count
                    case .needMoreData, .error, .closed:
                        return
                    case .head, .body:
                        continue
                    }
                }
            }
            elapsed = clock.now - start
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = Double(requestCount) / seconds
        let megabytes = Double(requestCount * ParserThroughputTests.request.count) / seconds / 1e6
        print(
            "HTTP1 request parser: \(ParserThroughputTests.request.count)-byte requests, \(Int(rate)) requests/s, "
                + "\(Int(megabytes)) MB/s (\(requestCount) requests, \(payloadBytes) payload bytes)")
        #expect(requestCount > 0)
    }
}
