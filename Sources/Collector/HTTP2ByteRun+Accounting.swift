// The HTTP/2 rule of byte categories (ConnectionLedger.swift): frame headers, the preface and control frames are
// framing; HEADERS, CONTINUATION and PUSH_PROMISE payloads are header (HPACK); DATA payload is payload (its gRPC
// prefixes are moved to framing by the ledger, which knows the message counts).

import Accounting
import HTTP2

extension HTTP2ByteRun {
    /// PUSH_PROMISE, which `HTTP2FrameType` does not name (the collector never sends it; a client may not).
    static let pushPromise: UInt8 = 5

    /// This scanned run as the connection ledger books it.
    var streamByteRun: StreamByteRun {
        let category: TrafficPart
        switch part {
        case .preface, .frameHeader: category = .framing
        case .payload:
            switch frameType {
            case HTTP2FrameType.headers, HTTP2FrameType.continuation, Self.pushPromise: category = .header
            case HTTP2FrameType.data: category = .payload
            default: category = .framing
            }
        }
        return StreamByteRun(streamID: streamID, part: category, count: count)
    }
}
