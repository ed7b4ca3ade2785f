import Testing
@testable import Accounting

/// Attribution rules for one HTTP/1.1 connection, and the invariant that rows add up to the bytes read and written.
@Suite struct HTTP1ConnectionLedgerTests {
    static func collect(_ ledger: inout HTTP1ConnectionLedger, closing: Bool) -> [BandwidthKey: BandwidthCounters] {
        var rows: [BandwidthKey: BandwidthCounters] = [:]
        let sink = { (key: BandwidthKey, counters: BandwidthCounters) in
            rows[key, default: BandwidthCounters()] += counters
        }
        if closing { ledger.close(into: sink) } else { ledger.drain(into: sink) }
        return rows
    }

    static let device = BandwidthKey(.restJSON, "d1")

    @Test func aRequestAndItsResponseGoToTheRequestsRow() {
        var ledger = HTTP1ConnectionLedger()
        ledger.read(300)
        ledger.requestKey = Self.device
        ledger.received(Traffic(header: 120, framing: 30, payload: 150))  // a chunked POST
        ledger.queue(header: 90, payload: 40)
        ledger.requestKey = nil
        ledger.written(130)
        let rows = Self.collect(&ledger, closing: true)
        var expected = BandwidthCounters(bytesIn: Traffic(header: 120, framing: 30, payload: 150),
                                         bytesOut: Traffic(header: 90, payload: 40))
        expected.connections = 1
        #expect(rows == [Self.device: expected])
    }

    @Test func theConnectionIsCountedOnceUnderItsFirstRequest() {
        var ledger = HTTP1ConnectionLedger()
        ledger.requestKey = .overhead(.query)
        ledger.received(Traffic(header: 40))
        #expect(ledger.isConnectionCounted)
        ledger.requestKey = Self.device
        ledger.received(Traffic(header: 100, payload: 50))
        let rows = Self.collect(&ledger, closing: false)
        #expect(rows[.overhead(.query)]?.connections == 1)
        #expect(rows[Self.device]?.connections == 0)
    }

    @Test func aConnectionWithoutRequestsIsCountedAtCloseUnderRESTOverhead() {
        var ledger = HTTP1ConnectionLedger()
        ledger.read(17)  // garbage the parser refused, or a silent client's nothing
        let rows = Self.collect(&ledger, closing: true)
        var expected = BandwidthCounters(bytesIn: Traffic(framing: 17))
        expected.connections = 1
        #expect(rows == [.overhead(.restJSON): expected])
    }

    @Test func bytesNoRequestBookedAreFramingOfTheCurrentRequestsRowAtClose() {
        var ledger = HTTP1ConnectionLedger()
        ledger.read(500)
        ledger.requestKey = Self.device
        ledger.received(Traffic(header: 100, payload: 100))
        ledger.requestKey = BandwidthKey(.restJSON, "d2")  // a second request, cut short mid-body
        let rows = Self.collect(&ledger, closing: true)
        #expect(rows[BandwidthKey(.restJSON, "d2")]?.bytesIn == Traffic(framing: 300))
    }

    @Test func a100ContinueIsHeaderBytesOfTheRequestItAnswers() {
        var ledger = HTTP1ConnectionLedger()
        ledger.requestKey = Self.device
        ledger.queue(header: 25, payload: 0)
        ledger.written(25)
        #expect(Self.collect(&ledger, closing: false)[Self.device]?.bytesOut == Traffic(header: 25))
    }

    @Test func outputNeverWrittenIsNeverBooked() {
        var ledger = HTTP1ConnectionLedger()
        ledger.requestKey = Self.device
        ledger.queue(header: 80, payload: 1000)
        ledger.written(100)
        let rows = Self.collect(&ledger, closing: true)
        #expect(rows[Self.device]?.bytesOut == Traffic(header: 80, payload: 20))
    }

    @Test func rowsAlwaysAddUpToTheBytesReadAndWritten() {
        var seed: UInt64 = 5
        func next(_ bound: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int(seed >> 33) % bound
        }
        let keys = [Self.device, BandwidthKey(.restJSON, "d2"), .overhead(.query), .overhead(.restJSON)]
        for _ in 0..<200 {
            var ledger = HTTP1ConnectionLedger()
            var read = 0, booked = 0, queued = 0, written = 0
            var rows: [BandwidthKey: BandwidthCounters] = [:]
            let sink = { (key: BandwidthKey, counters: BandwidthCounters) in
            rows[key, default: BandwidthCounters()] += counters
        }
            for _ in 0..<60 {
                switch next(6) {
                case 0:
                    let count = next(400)
                    read += count
                    ledger.read(count)
                case 1:
                    // A request whose bytes were all read: at most what was read and not yet booked.
                    let count = next(read - booked + 1)
                    booked += count
                    let header = next(count + 1)
                    ledger.received(Traffic(header: Int64(header), payload: Int64(count - header)))
                case 2:
                    let header = next(200), payload = next(200)
                    queued += header + payload
                    ledger.queue(header: header, payload: payload)
                case 3:
                    let count = next(queued - written + 1)
                    written += count
                    ledger.written(count)
                case 4: ledger.requestKey = next(3) == 0 ? nil : keys[next(keys.count)]
                default: ledger.drain(into: sink)
                }
            }
            ledger.close(into: sink)
            #expect(rows.values.reduce(Int64(0)) { $0 + $1.bytesIn.total } == Int64(read))
            #expect(rows.values.reduce(Int64(0)) { $0 + $1.bytesOut.total } == Int64(written))
            #expect(rows.values.reduce(Int64(0)) { $0 + $1.connections } == 1)
        }
    }
}

/// A streamed or framed answer books its framing bytes as framing, in order with its header and payload.
struct HTTP1ConnectionLedgerFramingTests {
    @Test func queuedFramingIsBookedAsFraming() {
        var ledger = HTTP1ConnectionLedger()
        let key = BandwidthKey(WireProtocol.grpcWeb, "d1")
        ledger.requestKey = key
        ledger.received(Traffic(header: 100, framing: 5, payload: 20))
        ledger.queue(header: 40, framing: 9, payload: 11)
        ledger.written(45)
        ledger.written(15)
        var rows: [BandwidthKey: BandwidthCounters] = [:]
        ledger.drain { rows[$0] = $1 }
        #expect(rows[key]?.bytesOut.header == 40)
        #expect(rows[key]?.bytesOut.framing == 9)
        #expect(rows[key]?.bytesOut.payload == 11)
        #expect(rows[key]?.bytesIn.framing == 5)
    }
}
