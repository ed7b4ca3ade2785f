import GRPC
import Telemetry
import Testing

/// Upload and Push driven purely by parts, with no HTTP/2: a request head through the router, message bytes
/// split anywhere, the end; a fake store completes the submissions; the response comes out as parts.
@Suite struct TelemetryCallHandlerTests {
    /// Plays the transport and the store: performs the handler's actions, keeping the parts it sends and the
    /// batches it submits, and commits them on demand the way the collector's store reports back.
    final class Host {
        let handler: any TelemetryServerHandler
        private(set) var sent: [GRPCResponsePart] = []
        private(set) var pending: [ReadingBatch] = []
        private var storedSeqs: Set<UInt64> = []

        init(_ method: TelemetryMethod, timeoutNanoseconds: UInt64? = nil) throws {
            let head = TelemetryRequestHead(method: method, deviceID: "d1", timeoutNanoseconds: timeoutNanoseconds)
                .makeRequestHead(authority: "test")
            handler = try TelemetryService.makeRouter().route(head)
        }

        func perform(_ actions: [TelemetryServerAction]) {
            for action in actions {
                switch action {
                case .send(let part): sent.append(part)
                case .submit(let batch): pending.append(batch)
                }
            }
        }

        func send(_ bytes: [UInt8]) { perform(bytes.withUnsafeBytes { handler.receive($0) }) }
        func end() { perform(handler.receiveEnd()) }

        /// Commits the oldest submitted batch; a seq already stored is a duplicate.
        func commitNext() {
            let batch = pending.removeFirst()
            let isDuplicate = !storedSeqs.insert(batch.seq).inserted
            perform(
                handler.committed(
                    readingsStored: isDuplicate ? 0 : batch.readingCount, isDuplicate: isDuplicate,
                    lastSeq: storedSeqs.max() ?? 0))
        }

        /// Fails the oldest submitted batch, as an overloaded store does.
        func failNext(_ status: GRPCStatus) {
            pending.removeFirst()
            perform(handler.storeFailed(status))
        }
    }

    static func batch(_ seq: UInt64, readings: Int = 3) -> Batch {
        Batch(
            seq: seq,
            series: [
                Series(
                    sensor: "temperature", exponent: -2, startMs: 1000, intervalMs: 1000,
                    mantissaDeltas: Array(repeating: 1, count: readings))
            ])
    }

    static func framed(_ batches: [Batch]) -> [UInt8] {
        batches.flatMap { GRPCMessageFramer.frame($0.protobufBytes()) }
    }

    /// The parts of a successful response carrying `ack`.
    static func acknowledged(_ ack: Ack) -> [GRPCResponsePart] {
        [
            .headers(["content-type": "application/grpc"]), .message(ack.protobufBytes()),
            .status(.ok, trailers: GRPCMetadata()),
        ]
    }

    @Test func pushThroughTheRouter() throws {
        let host = try Host(.push)
        host.send(Self.framed([Self.batch(7, readings: 4)]))
        #expect(host.pending.isEmpty, "a Push is submitted only at the end of the request")
        #expect(host.handler.bufferedBytes > 0)
        host.end()
        #expect(host.pending == [ReadingBatch(Self.batch(7, readings: 4))])
        #expect(host.sent.isEmpty, "no Ack before the commit")
        #expect(host.handler.isRequestComplete)
        host.commitNext()
        #expect(host.sent == Self.acknowledged(Ack(batches: 1, readings: 4, duplicateBatches: 0, lastSeq: 7)))
        guard case .message(let bytes) = host.sent[1] else {
            Issue.record("expected a message")
            return
        }
        #expect(try Ack(protobuf: bytes) == Ack(batches: 1, readings: 4, duplicateBatches: 0, lastSeq: 7))
        #expect(host.handler.isFinished)
    }

    @Test func uploadThroughTheRouterWithBytesSplitAnywhere() throws {
        let stream = Self.framed([Self.batch(1), Self.batch(2), Self.batch(1)])
        for cut in [1, 5, 17, stream.count / 2, stream.count - 1] {
            let host = try Host(.upload)
            host.send(Array(stream[..<cut]))
            host.send(Array(stream[cut...]))
            #expect(host.pending.map(\.seq) == [1, 2, 1], "each batch submitted as it arrives")
            #expect(host.handler.messageCount == 3)
            host.commitNext()
            host.end()
            host.commitNext()
            #expect(host.sent.isEmpty, "one batch is still uncommitted")
            host.commitNext()
            #expect(
                host.sent == Self.acknowledged(Ack(batches: 3, readings: 6, duplicateBatches: 1, lastSeq: 2)),
                "cut at \(cut)")
        }
    }

    @Test func aStoreFailureIsATrailersOnlyStatus() throws {
        let host = try Host(.upload)
        host.send(Self.framed([Self.batch(1), Self.batch(2)]))
        host.failNext(GRPCStatus(.unavailable, "overloaded"))
        #expect(host.sent == [.status(GRPCStatus(.unavailable, "overloaded"), trailers: GRPCMetadata())])
        host.commitNext()
        host.end()
        #expect(host.sent.count == 1, "nothing after the final status")
    }

    @Test func aMalformedMessageEndsTheCallWithItsStatus() throws {
        let host = try Host(.push)
        host.send([2, 0, 0, 0, 1, 0])
        #expect(host.sent == [.status(GRPCStatus(.internal, "invalid message flag 2"), trailers: GRPCMetadata())])
        #expect(host.handler.isFinished)
    }

    @Test func theDeadlineEndsTheCall() throws {
        let host = try Host(.upload, timeoutNanoseconds: 5_000_000)
        #expect(host.handler.head.timeoutNanoseconds == 5_000_000)
        host.send(Self.framed([Self.batch(1)]))
        host.perform(host.handler.deadlineExpired())
        #expect(
            host.sent == [
                .status(
                    GRPCStatus(.deadlineExceeded, "deadline of the call expired"),
                    trailers: GRPCMetadata())
            ])
        host.commitNext()
        #expect(host.sent.count == 1)
    }

    @Test func aCancelledCallSendsAndSubmitsNothing() throws {
        let host = try Host(.push)
        host.send(Self.framed([Self.batch(1)]))
        host.handler.cancel()
        host.end()
        #expect(host.pending.isEmpty)
        #expect(host.sent.isEmpty)
        #expect(host.handler.bufferedBytes == 0)
    }
}
