import Testing
import HTTP2
@testable import Collector

/// Attribution rules for one HTTP/2 connection, and the invariant that rows add up to the bytes scanned.
@Suite struct HTTP2ConnectionLedgerTests {
    static func run(_ stream: UInt32, _ type: UInt8, _ part: HTTP2BytePart, _ count: Int) -> HTTP2ByteRun {
        HTTP2ByteRun(streamID: stream, frameType: type, part: part, count: count)
    }

    static func collect(_ ledger: inout HTTP2ConnectionLedger, closing: Bool) -> [BandwidthKey: BandwidthCounters] {
        var rows: [BandwidthKey: BandwidthCounters] = [:]
        let sink = { (key: BandwidthKey, counters: BandwidthCounters) in rows[key, default: BandwidthCounters()] += counters }
        if closing { ledger.close(into: sink) } else { ledger.drain(into: sink) }
        return rows
    }

    @Test func singleDeviceConnectionOwnsItsConnectionLevelBytes() {
        var ledger = HTTP2ConnectionLedger()
        ledger.record(Self.run(0, 0, .preface, 24), inbound: true)
        ledger.record(Self.run(0, HTTP2FrameType.settings, .frameHeader, 9), inbound: true)
        ledger.record(Self.run(1, HTTP2FrameType.headers, .frameHeader, 9), inbound: true)
        ledger.record(Self.run(1, HTTP2FrameType.headers, .payload, 40), inbound: true)
        ledger.record(Self.run(1, HTTP2FrameType.data, .frameHeader, 9), inbound: true)
        ledger.record(Self.run(1, HTTP2FrameType.data, .payload, 160), inbound: true)
        ledger.identify(streamID: 1, as: BandwidthKey("grpc-stream", "d1"))
        ledger.messages(streamID: 1, count: 1, inbound: true)
        let rows = Self.collect(&ledger, closing: true)
        #expect(rows.count == 1)
        let row = rows[BandwidthKey("grpc-stream", "d1")]!
        #expect(row.bytesIn == Traffic(header: 40, framing: 24 + 9 + 9 + 9 + 5, payload: 155))
    }

    @Test func connectionLevelBytesGoToOverheadOnceASecondDeviceAppears() {
        var ledger = HTTP2ConnectionLedger()
        ledger.record(Self.run(0, 0, .preface, 24), inbound: true)
        ledger.identify(streamID: 1, as: BandwidthKey("grpc-unary", "a"))
        ledger.identify(streamID: 3, as: BandwidthKey("grpc-unary", "b"))
        ledger.record(Self.run(0, HTTP2FrameType.ping, .frameHeader, 9), inbound: false)
        let rows = Self.collect(&ledger, closing: true)
        #expect(rows == [BandwidthKey("grpc-unary", ""): {
            var c = BandwidthCounters()
            c.bytesIn.framing = 24
            c.bytesOut.framing = 9
            return c
        }()])
    }

    @Test func rejectedAndUnidentifiedStreamsAreConnectionLevel() {
        var ledger = HTTP2ConnectionLedger()
        ledger.record(Self.run(1, HTTP2FrameType.headers, .payload, 30), inbound: true)
        ledger.reject(streamID: 1, protocolName: "grpc-stream")
        ledger.record(Self.run(1, HTTP2FrameType.rstStream, .payload, 4), inbound: false)
        ledger.record(Self.run(3, HTTP2FrameType.headers, .payload, 7), inbound: true)  // never identified
        #expect(Self.collect(&ledger, closing: false).isEmpty == false)
        let rest = Self.collect(&ledger, closing: true)
        #expect(rest[BandwidthKey("grpc-stream", "")]?.bytesIn.header == 7)
    }

    @Test func connectionWithoutStreamsIsBookedUnderH2C() {
        var ledger = HTTP2ConnectionLedger()
        ledger.record(Self.run(0, 0, .preface, 24), inbound: true)
        #expect(Self.collect(&ledger, closing: false).isEmpty)  // waits for a first stream
        #expect(Self.collect(&ledger, closing: true)[BandwidthKey("h2c", "")]?.bytesIn.framing == 24)
    }

    @Test func rowsAlwaysAddUpToTheBytesScanned() {
        var seed: UInt64 = 11
        func next(_ bound: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int(seed >> 33) % bound
        }
        for _ in 0..<200 {
            var ledger = HTTP2ConnectionLedger()
            var total = 0
            var rows: [BandwidthKey: BandwidthCounters] = [:]
            let sink = { (key: BandwidthKey, counters: BandwidthCounters) in rows[key, default: BandwidthCounters()] += counters }
            for _ in 0..<100 {
                switch next(10) {
                case 0: ledger.identify(streamID: Int32(next(20) * 2 + 1), as: BandwidthKey("grpc-stream", "d\(next(3))"))
                case 1: ledger.reject(streamID: Int32(next(20) * 2 + 1), protocolName: nil)
                case 2: ledger.drain(into: sink)
                default:
                    let count = next(500) + 1
                    total += count
                    let types: [UInt8] = [0, 1, 3, 4, 6, 8, 9]
                    ledger.record(Self.run(UInt32(next(2) == 0 ? 0 : next(20) * 2 + 1), types[next(types.count)],
                                           next(2) == 0 ? .frameHeader : .payload, count), inbound: next(2) == 0)
                }
            }
            ledger.close(into: sink)
            let attributed = rows.values.reduce(Int64(0)) { $0 + $1.bytesIn.total + $1.bytesOut.total }
            #expect(attributed == Int64(total))
        }
    }
}
