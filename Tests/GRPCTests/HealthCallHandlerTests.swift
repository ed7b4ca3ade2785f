import GRPC
import Synchronization
import Telemetry
import Testing

/// The Health service driven purely by parts, with no HTTP/2: a head through the standard services' router,
/// request bytes split anywhere, the end, polls; readiness is a switch the test flips.
@Suite struct HealthCallHandlerTests {
    /// The collector's readiness as the handler sees it.
    final class Readiness: Sendable {
        private let ready = Mutex(true)
        var isReady: Bool {
            get { ready.withLock { $0 } }
            set { ready.withLock { $0 = newValue } }
        }
    }

    /// Plays the transport: keeps every part the handler returns.
    final class Host {
        let readiness = Readiness()
        let handler: any StandardServiceHandler
        private(set) var sent: [GRPCResponsePart] = []

        init(_ method: HealthCallHandler.Method) throws {
            let readiness = readiness
            let router = StandardServices.makeRouter(isServing: { readiness.isReady }, index: .served)
            handler = try router.route(GRPCRequestHead(path: method.rawValue, authority: "test",
                                                       metadata: ["content-type": "application/grpc"]))
        }

        func send(_ bytes: [UInt8]) { sent += bytes.withUnsafeBytes { handler.receive($0) } }
        func end() { sent += handler.receiveEnd() }
        func poll() { sent += handler.poll() }
        /// The parts returned since the last call.
        func take() -> [GRPCResponsePart] {
            defer { sent = [] }
            return sent
        }
    }

    /// `HealthCheckRequest { service = name }`: tag 0x0a (field 1, length-delimited), the length, the UTF-8 bytes;
    /// nothing at all for "" (the proto3 default).
    static func request(_ service: String) -> [UInt8] {
        service.isEmpty ? [] : [0x0a, UInt8(service.utf8.count)] + Array(service.utf8)
    }

    static func framed(_ service: String) -> [UInt8] { GRPCMessageFramer.frame(request(service)) }

    /// `HealthCheckResponse { status }`: tag 0x08 (field 1, varint) and the enum value.
    static let serving: [UInt8] = [0x08, 0x01]
    static let notServing: [UInt8] = [0x08, 0x02]
    static let serviceUnknown: [UInt8] = [0x08, 0x03]

    static func answered(_ message: [UInt8]) -> [GRPCResponsePart] {
        [.headers(.responseHeaders), .message(message), .status(.ok, trailers: GRPCMetadata())]
    }

    @Test(arguments: ["", "telemetry.v1.Telemetry"])
    func checkAnswersServingForAKnownServiceAtTheClientsEnd(service: String) throws {
        let host = try Host(.check)
        host.send(Self.framed(service))
        #expect(host.take() == [], "a unary call answers at the client's end, not at its message")
        host.end()
        #expect(host.take() == Self.answered(Self.serving))
        #expect(host.handler.isFinished)
    }

    @Test func checkAnswersNotServingWhileTheCollectorIsNotReady() throws {
        let host = try Host(.check)
        host.readiness.isReady = false
        host.send(Self.framed("telemetry.v1.Telemetry"))
        host.end()
        #expect(host.take() == Self.answered(Self.notServing))
    }

    @Test func checkOfAnUnknownServiceIsNotFoundAsALoneStatus() throws {
        let host = try Host(.check)
        host.send(Self.framed("telemetry.v2.Telemetry"))
        host.end()
        let parts = host.take()
        #expect(parts.count == 1)
        guard case .status(let status, _) = parts.first else {
            Issue.record("expected a lone status, got \(parts)")
            return
        }
        #expect(status.code == .notFound)
        #expect(status.message.contains("telemetry.v2.Telemetry"))
    }

    @Test func checkRequestSplitAtEveryPositionGivesTheSameAnswer() throws {
        let bytes = Self.framed("telemetry.v1.Telemetry")
        for cut in 0...bytes.count {
            let host = try Host(.check)
            host.send(Array(bytes[..<cut]))
            host.send(Array(bytes[cut...]))
            host.end()
            #expect(host.take() == Self.answered(Self.serving), "split at \(cut)")
        }
    }

    @Test(arguments: [0, 2])
    func checkTakesExactlyOneRequestMessage(messages: Int) throws {
        let host = try Host(.check)
        for _ in 0..<messages { host.send(Self.framed("")) }
        host.end()
        let statuses = host.take().compactMap { part -> GRPCStatus? in
            if case .status(let status, _) = part { status } else { nil }
        }
        #expect(statuses.map(\.code) == [.unimplemented])
    }

    @Test func aRequestThatIsNotProtobufIsInvalidArgument() throws {
        let host = try Host(.check)
        host.send(GRPCMessageFramer.frame([0x0a, 0x05, 0x61]))  // field 1 announces 5 bytes, 1 follows
        let parts = host.take()
        guard case .status(let status, _) = parts.last else {
            Issue.record("expected a status, got \(parts)")
            return
        }
        #expect(status.code == .invalidArgument)
        #expect(host.handler.isFinished)
    }

    @Test func aStreamEndingInsideTheMessageIsInvalidArgument() throws {
        let host = try Host(.check)
        host.send(Array(Self.framed("telemetry.v1.Telemetry").prefix(8)))
        host.end()
        guard case .status(let status, _) = host.take().last else {
            Issue.record("expected a status")
            return
        }
        #expect(status.code == .invalidArgument)
    }

    @Test func listAnswersEveryKnownServiceWithOneStatus() throws {
        let host = try Host(.list)
        host.send(GRPCMessageFramer.frame([]))  // HealthListRequest has no fields
        host.end()
        // HealthListResponse: one map entry (field 1) per service: key (field 1, omitted for ""), value (field 2).
        let expected: [UInt8] =
            [0x0a, 0x04, 0x12, 0x02] + Self.serving
            + [0x0a, 0x1c, 0x0a, 0x16] + Array("telemetry.v1.Telemetry".utf8) + [0x12, 0x02] + Self.serving
        #expect(host.take() == Self.answered(expected))
        #expect(HealthCallHandler.knownServices == ["", "telemetry.v1.Telemetry"])
    }

    @Test func watchAnswersAtOnceThenOnlyWhenTheStatusChanges() throws {
        let host = try Host(.watch)
        host.send(Self.framed(""))
        #expect(host.take() == [.headers(.responseHeaders), .message(Self.serving)], "the first answer comes at once")
        host.end()
        #expect(host.take() == [], "a Watch goes on after the client's end")
        #expect(!host.handler.isFinished)
        host.poll()
        #expect(host.take() == [], "no change, nothing sent")
        host.readiness.isReady = false
        host.poll()
        #expect(host.take() == [.message(Self.notServing)])
        host.poll()
        #expect(host.take() == [])
        host.readiness.isReady = true
        host.poll()
        #expect(host.take() == [.message(Self.serving)])
    }

    @Test func watchOfAnUnknownServiceSaysServiceUnknownAndStaysOpen() throws {
        let host = try Host(.watch)
        host.send(Self.framed("nope.v1.Nope"))
        host.end()
        #expect(host.take() == [.headers(.responseHeaders), .message(Self.serviceUnknown)])
        host.readiness.isReady = false
        host.poll()
        #expect(host.take() == [], "readiness says nothing about a service the server does not know")
        #expect(!host.handler.isFinished)
    }

    @Test func theTransportEndsAWatchOnceAndNothingFollows() throws {
        let host = try Host(.watch)
        host.send(Self.framed(""))
        _ = host.take()
        let shutdown = GRPCStatus(.unavailable, "shutting down")
        #expect(host.handler.end(with: shutdown) == [.status(shutdown, trailers: GRPCMetadata())])
        #expect(host.handler.end(with: .ok) == [])
        host.readiness.isReady = false
        host.poll()
        #expect(host.take() == [])
    }

    @Test func cancelledWatchSendsNothingMore() throws {
        let host = try Host(.watch)
        host.send(Self.framed(""))
        _ = host.take()
        host.handler.cancel()
        host.readiness.isReady = false
        host.poll()
        host.end()
        #expect(host.take() == [])
    }

    @Test func theRouterServesEveryHealthMethodAndRefusesOthers() throws {
        let router = StandardServices.makeRouter(isServing: { true }, index: .served)
        let paths = HealthCallHandler.Method.allCases.map(\.rawValue)
        #expect(paths == ["/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/List",
                          "/grpc.health.v1.Health/Watch"])
        for path in paths + ServerReflectionCallHandler.methodPaths {
            #expect(router.handles(path))
            #expect(StandardServices.handles(path: path))
        }
        #expect(!StandardServices.handles(path: "/telemetry.v1.Telemetry/Push"))
        #expect(StandardServices.handles(path: "/grpc.health.v1.Health/Nope"), "answered by this router: UNIMPLEMENTED")
        let head = GRPCRequestHead(path: "/grpc.health.v1.Health/Nope", authority: "test",
                                   metadata: ["content-type": "application/grpc"])
        #expect(throws: GRPCRequestRejection.self) { try router.route(head) }
    }

    @Test func theCallsDeadlineReachesTheTransport() throws {
        let router = StandardServices.makeRouter(isServing: { true }, index: .served)
        let head = GRPCRequestHead(path: "/grpc.health.v1.Health/Watch", authority: "test",
                                   metadata: ["content-type": "application/grpc", "grpc-timeout": "3S"])
        #expect(try router.route(head).timeoutNanoseconds == 3_000_000_000)
    }
}
