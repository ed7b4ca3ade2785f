import Testing
@testable import Accounting

/// Attribution rules for one HTTP/2 connection, and the invariant that rows add up to the bytes read and written.
@Suite struct HTTP2ConnectionLedgerTests {
    static func run(_ stream: UInt32, _ part: TrafficPart, _ count: Int) -> StreamByteRun {
        StreamByteRun(streamID: stream, part: part, count: count)
    }

    static func collect(_ ledger: inout HTTP2ConnectionLedger, closing: Bool) -> [BandwidthKey: BandwidthCounters] {
        var rows: [BandwidthKey: BandwidthCounters] = [:]
        let sink = { (key: BandwidthKey, counters: BandwidthCounters) in
            rows[key, default: BandwidthCounters()] += counters
        }
        if closing { ledger.close(into: sink) } else { ledger.drain(into: sink) }
        return rows
    }

    /// Receives a run the way the connection does: read from the socket, then scanned.
    static func receive(_ ledger: inout HTTP2ConnectionLedger, _ run: StreamByteRun) {
        ledger.read(run.count)
        ledger.received(run)
    }

    /// Sends a run the way the connection does: produced and queued, then written.
    static func send(_ ledger: inout HTTP2ConnectionLedger, _ run: StreamByteRun) {
        ledger.queue(run)
        ledger.written(run.count)
    }

    @Test func singleDeviceConnectionOwnsItsConnectionLevelBytes() {
        var ledger = HTTP2ConnectionLedger()
        Self.receive(&ledger, Self.run(0, .framing, 24))  // preface
        Self.receive(&ledger, Self.run(0, .framing, 9))  // SETTINGS frame header
        Self.receive(&ledger, Self.run(1, .framing, 9))  // HEADERS frame header
        Self.receive(&ledger, Self.run(1, .header, 40))  // HPACK block
        Self.receive(&ledger, Self.run(1, .framing, 9))  // DATA frame header
        Self.receive(&ledger, Self.run(1, .payload, 160))  // one gRPC message: 5-byte prefix + 155 bytes
        ledger.identify(streamID: 1, as: BandwidthKey(.grpcStream, "d1"))
        ledger.messages(streamID: 1, count: 1, inbound: true)
        let rows = Self.collect(&ledger, closing: true)
        #expect(rows.count == 1)
        let row = rows[BandwidthKey(.grpcStream, "d1")]!
        #expect(row.bytesIn == Traffic(header: 40, framing: 24 + 9 + 9 + 9 + 5, payload: 155))
        #expect(row.connections == 1)
    }

    @Test func connectionLevelBytesGoToOverheadOnceASecondDeviceAppears() {
        var ledger = HTTP2ConnectionLedger()
        Self.receive(&ledger, Self.run(0, .framing, 24))
        ledger.identify(streamID: 1, as: BandwidthKey(.grpcUnary, "a"))
        ledger.identify(streamID: 3, as: BandwidthKey(.grpcUnary, "b"))
        Self.send(&ledger, Self.run(0, .framing, 9))  // PING
        let rows = Self.collect(&ledger, closing: true)
        let overhead = BandwidthCounters(bytesIn: Traffic(framing: 24), bytesOut: Traffic(framing: 9))
        var first = BandwidthCounters()
        first.connections = 1
        #expect(rows == [.overhead(.grpcUnary): overhead, BandwidthKey(.grpcUnary, "a"): first])
    }

    @Test func theConnectionIsCountedOnceUnderItsFirstIdentifiedStream() {
        var ledger = HTTP2ConnectionLedger()
        ledger.identify(streamID: 1, as: BandwidthKey(.query, ""))
        #expect(Self.collect(&ledger, closing: false)[.overhead(.query)]?.connections == 1)
        ledger.identify(streamID: 3, as: BandwidthKey(.restJSONH2, "d"))
        #expect(Self.collect(&ledger, closing: false).isEmpty)
        #expect(Self.collect(&ledger, closing: true).values.allSatisfy { $0.connections == 0 })
    }

    @Test func rejectedAndUnidentifiedStreamsAreConnectionLevel() {
        var ledger = HTTP2ConnectionLedger()
        Self.receive(&ledger, Self.run(1, .header, 30))
        ledger.reject(streamID: 1, protocolName: WireProtocol.grpcStream.rawValue)
        Self.send(&ledger, Self.run(1, .framing, 4))  // RST_STREAM
        Self.receive(&ledger, Self.run(3, .header, 7))  // never identified
        #expect(Self.collect(&ledger, closing: false)[.overhead(.grpcStream)]?.bytesIn.header == 30)
        let rest = Self.collect(&ledger, closing: true)
        #expect(rest[.overhead(.grpcStream)]?.bytesIn.header == 7)
        #expect(rest[.overhead(.grpcStream)]?.connections == 1)  // never identified a stream: counted at close
    }

    @Test func connectionWithoutStreamsIsBookedUnderH2C() {
        var ledger = HTTP2ConnectionLedger()
        Self.receive(&ledger, Self.run(0, .framing, 24))
        #expect(Self.collect(&ledger, closing: false).isEmpty)  // waits for a first stream
        let row = Self.collect(&ledger, closing: true)[.overhead(.h2c)]
        #expect(row?.bytesIn.framing == 24 && row?.connections == 1)
    }

    @Test func bytesReadButNeverScannedAreConnectionFramingAtClose() {
        var ledger = HTTP2ConnectionLedger()
        Self.receive(&ledger, Self.run(1, .header, 20))
        ledger.identify(streamID: 1, as: BandwidthKey(.grpcUnary, "d"))
        ledger.read(6)  // e.g. half a frame header, or what a lingering close discarded
        let row = Self.collect(&ledger, closing: true)[BandwidthKey(.grpcUnary, "d")]
        #expect(row?.bytesIn == Traffic(header: 20, framing: 6))
    }

    @Test func outputIsBookedOnlyAsItIsWritten() {
        var ledger = HTTP2ConnectionLedger()
        ledger.identify(streamID: 1, as: BandwidthKey(.grpcUnary, "d"))
        ledger.queue(Self.run(1, .framing, 9))
        ledger.queue(Self.run(1, .payload, 100))
        ledger.written(50)
        let rows = Self.collect(&ledger, closing: true)  // the other 59 bytes never crossed the socket
        #expect(rows[BandwidthKey(.grpcUnary, "d")]?.bytesOut == Traffic(framing: 9, payload: 41))
    }

    @Test func thePrefixShiftNeverTakesMorePayloadThanWasBooked() {
        var ledger = HTTP2ConnectionLedger()
        ledger.identify(streamID: 1, as: BandwidthKey(.grpcUnary, "d"))
        ledger.messages(streamID: 1, count: 1, inbound: false)  // counted before its bytes are written
        ledger.queue(Self.run(1, .payload, 3))
        ledger.queue(Self.run(1, .payload, 30))
        ledger.written(3)
        #expect(Self.collect(&ledger, closing: false)[BandwidthKey(.grpcUnary, "d")]?.bytesOut == Traffic(framing: 3))
        ledger.written(30)
        #expect(Self.collect(&ledger, closing: false)[BandwidthKey(.grpcUnary, "d")]?.bytesOut
                == Traffic(framing: 2, payload: 28))
    }

    @Test func rowsAlwaysAddUpToTheBytesReadAndWritten() {
        var seed: UInt64 = 11
        func next(_ bound: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int(seed >> 33) % bound
        }
        for _ in 0..<200 {
            var ledger = HTTP2ConnectionLedger()
            var total = 0
            var queued = 0
            var rows: [BandwidthKey: BandwidthCounters] = [:]
            let sink = { (key: BandwidthKey, counters: BandwidthCounters) in
            rows[key, default: BandwidthCounters()] += counters
        }
            for _ in 0..<100 {
                switch next(12) {
                case 0: ledger.identify(streamID: Int32(next(20) * 2 + 1), as: BandwidthKey(.grpcStream, "d\(next(3))"))
                case 1: ledger.reject(streamID: Int32(next(20) * 2 + 1), protocolName: nil)
                case 2: ledger.drain(into: sink)
                case 3: ledger.messages(streamID: Int32(next(20) * 2 + 1), count: next(3), inbound: next(2) == 0)
                case 4:
                    let count = next(queued + 1)
                    queued -= count
                    total += count
                    ledger.written(count)
                case 5:
                    let count = next(20)
                    total += count
                    ledger.read(count)  // read, never scanned
                default:
                    let count = next(500) + 1
                    let parts: [TrafficPart] = [.header, .framing, .payload]
                    let run = Self.run(UInt32(next(2) == 0 ? 0 : next(20) * 2 + 1), parts[next(3)], count)
                    if next(2) == 0 {
                        total += count
                        Self.receive(&ledger, run)
                    } else {
                        queued += count
                        ledger.queue(run)
                    }
                }
            }
            ledger.close(into: sink)
            let attributed = rows.values.reduce(Int64(0)) { $0 + $1.bytesIn.total + $1.bytesOut.total }
            #expect(attributed == Int64(total))
            #expect(rows.values.reduce(Int64(0)) { $0 + $1.connections } == 1)
            for counters in rows.values {
                #expect(counters.bytesIn.payload >= 0 && counters.bytesOut.payload >= 0)
            }
        }
    }
}
