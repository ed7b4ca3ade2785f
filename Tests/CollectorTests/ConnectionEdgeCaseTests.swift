import EventIO
import Foundation
import Telemetry
import Testing

@testable import Collector
@testable import CollectorService

/// Connection edge cases on in-memory transports, exact to the byte and free of timing: pipelining, requests split
/// at every byte, a half-sent request, a client that never reads, an HTTP/2 PING flood, and every byte attributed.
/// (The Python suite attacks a real collector over sockets with independent clients; these pin the handlers' rules.)
@Suite(.serialized) struct ConnectionEdgeCaseTests {
    static func statuses(_ output: [UInt8]) -> [Int] {
        let text = String(decoding: output, as: UTF8.self)
        return text.components(separatedBy: "HTTP/1.1 ").dropFirst().compactMap { Int($0.prefix(3)) }
    }

    static func get(_ path: String) -> [UInt8] { Array("GET \(path) HTTP/1.1\r\nHost: t\r\n\r\n".utf8) }

    @Test func pipelinedRequestsAreAnsweredInOrderAndEveryByteIsAttributed() throws {
        let collector = try InMemoryCollector()
        let totals = TransportByteTotals()
        let transport = try collector.onLoop {
            let transport = InMemoryTransport(
                loop: collector.loop, handler: ProtocolSniffer(context: collector.context, directory: collector.registries),
                byteTotals: totals)
            transport.open()
            transport.receive(
                HTTP1EndToEndTests.post("p", TestBatches.json(1)) + HTTP1EndToEndTests.post("p", TestBatches.json(2))
                    + Self.get("/healthz") + HTTP1EndToEndTests.post("p", TestBatches.json(1)))
            return transport
        }
        var output: [UInt8] = []
        #expect(try collector.waitOnLoop {
            output += transport.takeOutput()
            return Self.statuses(output).count == 4
        })
        #expect(Self.statuses(output) == [200, 200, 200, 200])
        let text = String(decoding: output, as: UTF8.self)
        let acks = text.components(separatedBy: "\"last_seq\":").dropFirst().map { $0.prefix(1) }
        #expect(acks == ["1", "2", "2"], "answers in request order; the repeated batch is a duplicate")
        #expect(text.contains("\"duplicate_batches\":1"))
        try collector.onLoop { transport.close() }
        let rows = collector.context.ledger.snapshot().values
        #expect(rows.reduce(Int64(0)) { $0 + $1.bytesIn.total } == totals.bytesRead)
        #expect(rows.reduce(Int64(0)) { $0 + $1.bytesOut.total } == totals.bytesWritten)
        #expect(totals.bytesWritten == Int64(output.count))
    }

    @Test func aRequestSplitAtEveryByteIsStoredOnce() throws {
        let collector = try InMemoryCollector()
        let request = HTTP1EndToEndTests.post("split", TestBatches.json(7))
        let transport = try collector.onLoop {
            let transport = collector.connect()
            for byte in request { transport.receive([byte]) }
            return transport
        }
        var output: [UInt8] = []
        #expect(try collector.waitOnLoop {
            output += transport.takeOutput()
            return !Self.statuses(output).isEmpty
        })
        #expect(Self.statuses(output) == [200])
        #expect(try collector.context.store.device("split")?.batches == 1)
        #expect(try collector.onLoop { transport.bytesRead } == UInt64(request.count))
    }

    @Test func aHalfSentRequestGets408AtTheHeaderDeadline() throws {
        let collector = try InMemoryCollector { $0.headerTimeoutMs = 100 }
        let transport = try collector.onLoop {
            let transport = collector.connect()
            transport.receive(Array("POST /v1/devices/h/readings HTTP/1.1\r\nHost".utf8))
            return transport
        }
        var output: [UInt8] = []
        #expect(try collector.waitOnLoop {
            output += transport.takeOutput()
            return transport.isClosed
        })
        #expect(Self.statuses(output) == [408])
        #expect(try collector.context.store.device("h") == nil)
    }

    @Test func aClientThatNeverReadsIsPausedThenClosedByTheWriteTimeout() throws {
        let collector = try InMemoryCollector()
        let transport = try collector.onLoop {
            let transport = collector.connect(peerWindow: 0)
            transport.receive(Array((0..<200).map { _ in Self.get("/metrics") }.joined()))
            return transport
        }
        // Reading pauses once an answer waits unread, so the pipelined requests stay in the transport, unread.
        #expect(try collector.waitOnLoop { transport.isReadingPaused && transport.outboundByteCount > 0 })
        let waiting = try collector.onLoop { transport.outboundByteCount }
        #expect(waiting < HTTP1ServerConnection.outboundHighWater + 64 << 10, "at most one answer plus the high water")
        let reason = try collector.onLoop {
            transport.expireWriteTimeout()
            return transport.closeReason
        }
        #expect(reason == .writeTimedOut)
    }

    @Test func aRefusalTheClientWaitsForWithExpectContinueGoesOutAtTheHeadAndCloses() throws {
        let collector = try InMemoryCollector()
        let head = Array(
            "POST /v1/devices/e/readings HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n"
                .utf8) + Array("Expect: 100-continue\r\n\r\n".utf8)
        let transport = try collector.onLoop {
            let transport = collector.connect()
            transport.receive(head)  // the client waits for 100 Continue: the body never comes
            return transport
        }
        let output = try collector.onLoop { transport.takeOutput() }
        let text = String(decoding: output, as: UTF8.self)
        #expect(Self.statuses(output) == [415], "no 100 Continue, the refusal at once")
        #expect(text.contains("Connection: close\r\n"))
        #expect(try collector.onLoop { transport.isClosed })
        #expect(try collector.context.store.device("e") == nil)
    }

    @Test func anAcceptedExpectContinueGetsContinueThenItsAnswer() throws {
        let collector = try InMemoryCollector()
        let request = HTTP1EndToEndTests.post("c", TestBatches.json(1), extra: "Expect: 100-continue\r\n")
        let split = request.count - TestBatches.json(1).count
        let transport = try collector.onLoop {
            let transport = collector.connect()
            transport.receive(request[..<split])
            return transport
        }
        #expect(try collector.onLoop { transport.takeOutput() } == Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
        try collector.onLoop { transport.receive(request[split...]) }
        var output: [UInt8] = []
        #expect(try collector.waitOnLoop {
            output += transport.takeOutput()
            return !Self.statuses(output).isEmpty
        })
        #expect(Self.statuses(output) == [200])
        #expect(try collector.onLoop { !transport.isClosed && !transport.isReadingPaused })
    }

    @Test func aMalformedRequestGets400AndTheConnectionCloses() throws {
        let collector = try InMemoryCollector()
        let transport = try collector.onLoop {
            let transport = collector.connect()
            transport.receive(Array("GET /healthz HTTP/1.1\nHost: t\r\n\r\n".utf8) + Self.get("/healthz"))
            return transport
        }
        let output = try collector.onLoop { transport.takeOutput() }
        #expect(Self.statuses(output) == [400], "the pipelined request after it is never read")
        #expect(String(decoding: output, as: UTF8.self).contains("Connection: close\r\n"))
        #expect(try collector.onLoop { transport.isClosed })
    }

    @Test func shutdownWhileARequestIsInFlightAnswersItWithConnectionCloseThenCloses() throws {
        let collector = try InMemoryCollector()
        let transport = try collector.onLoop {
            let transport = collector.connect()
            // The ingest's answer waits for its commit on the writer thread; shutdown comes before it.
            transport.receive(HTTP1EndToEndTests.post("s", TestBatches.json(1)) + Self.get("/healthz"))
            (transport.handler as? GracefulShutdown)?.beginShutdown()
            #expect(!transport.isClosed)
            return transport
        }
        var output: [UInt8] = []
        #expect(try collector.waitOnLoop {
            output += transport.takeOutput()
            return transport.isClosed
        })
        #expect(Self.statuses(output) == [200], "answered; the pipelined request after it is not read")
        #expect(String(decoding: output, as: UTF8.self).contains("Connection: close\r\n"))
        #expect(try collector.context.store.device("s")?.batches == 1)
    }

    @Test func shutdownBetweenRequestsClosesAtOnce() throws {
        let collector = try InMemoryCollector()
        let transport = try collector.onLoop {
            let transport = collector.connect()
            transport.receive(Self.get("/healthz"))
            return transport
        }
        var output: [UInt8] = []
        #expect(try collector.waitOnLoop {
            output += transport.takeOutput()
            return !Self.statuses(output).isEmpty
        })
        let isClosed = try collector.onLoop {
            (transport.handler as? GracefulShutdown)?.beginShutdown()
            return transport.isClosed
        }
        #expect(isClosed)
        #expect(Self.statuses(output) == [200])
    }

    @Test func aClientThatStopsReadingIsPausedAndResumedWhenItReadsAgain() throws {
        let collector = try InMemoryCollector()
        let count = 200
        let transport = try collector.onLoop {
            let transport = collector.connect(peerWindow: 0)
            transport.receive(Array((0..<count).map { _ in Self.get("/metrics") }.joined()))
            return transport
        }
        #expect(try collector.waitOnLoop { transport.isReadingPaused && transport.outboundByteCount > 0 })
        // The client reads everything from now on: reading resumes and every request is answered, in order.
        try collector.onLoop { transport.peerWindow = nil }
        var output: [UInt8] = []
        #expect(try collector.waitOnLoop {
            output += transport.takeOutput()
            return Self.statuses(output).count == count
        })
        #expect(Self.statuses(output) == Array(repeating: 200, count: count))
        #expect(try collector.onLoop { !transport.isClosed && !transport.isReadingPaused })
    }

    @Test func aHalfSentBodyGets408AtTheBodyDeadline() throws {
        let collector = try InMemoryCollector { $0.requestTimeoutMs = 100 }
        let request = HTTP1EndToEndTests.post("b", TestBatches.json(1))
        let transport = try collector.onLoop {
            let transport = collector.connect()
            transport.receive(request.dropLast(5))
            return transport
        }
        var output: [UInt8] = []
        #expect(try collector.waitOnLoop {
            output += transport.takeOutput()
            return transport.isClosed
        })
        #expect(Self.statuses(output) == [408])
        #expect(String(decoding: output, as: UTF8.self).contains("request body not complete within 100 ms"))
        #expect(try collector.context.store.device("b") == nil)
    }

    @Test func anHTTP2PingFloodEndsWithGoawayEnhanceYourCalm() throws {
        let collector = try InMemoryCollector()
        let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8) + [0, 0, 0, 4, 0, 0, 0, 0, 0]
        let ping: [UInt8] = [0, 0, 8, 6, 0, 0, 0, 0, 0] + [UInt8](repeating: 1, count: 8)
        let transport = try collector.onLoop {
            let transport = collector.connect()
            transport.receive(preface + Array((0..<300).map { _ in ping }.joined()))
            return transport
        }
        var output: [UInt8] = []
        #expect(try collector.waitOnLoop {
            output += transport.takeOutput()
            return transport.isClosed
        })
        // Walk the server's frames: a GOAWAY (type 7) with ENHANCE_YOUR_CALM (0xb), and fewer PING ACKs than PINGs.
        var offset = 0
        var goawayCode: UInt32?
        var pingAcks = 0
        while offset + 9 <= output.count {
            let length = Int(output[offset]) << 16 | Int(output[offset + 1]) << 8 | Int(output[offset + 2])
            let type = output[offset + 3]
            if type == 7, offset + 17 <= output.count {
                goawayCode = output[(offset + 13)..<(offset + 17)].reduce(0) { $0 << 8 | UInt32($1) }
            }
            if type == 6 { pingAcks += 1 }
            offset += 9 + length
        }
        #expect(goawayCode == 0xb)
        #expect(pingAcks < 300)
    }
}
