import Accounting
import HTTP2
import Testing
@testable import Collector
@testable import CollectorService

/// The HTTP/2 byte categories: what each part of each frame type is booked as.
struct HTTP2ByteRunAccountingTests {
    @Test(arguments: [
        (HTTP2BytePart.preface, UInt8(0), TrafficPart.framing),
        (.frameHeader, HTTP2FrameType.data, .framing),
        (.frameHeader, HTTP2FrameType.headers, .framing),
        (.payload, HTTP2FrameType.data, .payload),  // gRPC prefixes are moved to framing by the ledger
        (.payload, HTTP2FrameType.headers, .header),
        (.payload, HTTP2FrameType.continuation, .header),
        (.payload, 5, .header),  // PUSH_PROMISE
        (.payload, HTTP2FrameType.settings, .framing),
        (.payload, HTTP2FrameType.ping, .framing),
        (.payload, HTTP2FrameType.goaway, .framing),
        (.payload, HTTP2FrameType.windowUpdate, .framing),
        (.payload, HTTP2FrameType.rstStream, .framing),
        (.payload, HTTP2FrameType.priority, .framing),
    ])
    func category(part: HTTP2BytePart, frameType: UInt8, expected: TrafficPart) {
        let run = HTTP2ByteRun(streamID: 3, frameType: frameType, part: part, count: 42)
        #expect(run.streamByteRun == StreamByteRun(streamID: 3, part: expected, count: 42))
    }
}
