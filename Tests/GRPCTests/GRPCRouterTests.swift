import GRPC
import Telemetry
import Testing

/// The router checks a request head in the order the gRPC spec prescribes, then makes the handler registered for
/// its path; the Telemetry service's own check (`device-id`) comes last.
@Suite struct GRPCRouterTests {
    static let router = TelemetryService.makeRouter()

    static let valid = TelemetryRequestHead(method: .push, deviceID: "dev-1.a:B_9", timeoutNanoseconds: 2_000_000)
        .makeRequestHead(authority: "localhost:8080")

    static func replacing(_ name: String, with value: String?) -> GRPCRequestHead {
        var head = valid
        switch name {
        case ":method": head.method = value
        case ":path": head.path = value
        default:
            head.metadata.removeAll(named: name)
            if let value { head.metadata.append(name, value) }
        }
        return head
    }

    static func rejection(_ head: GRPCRequestHead) -> GRPCRequestRejection? {
        do {
            _ = try router.route(head)
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: TelemetryMethod.allCases)
    func knownPathsMakeTheirHandler(method: TelemetryMethod) throws {
        var head = Self.valid
        head.path = method.rawValue
        let handler = try Self.router.route(head)
        #expect(
            handler.head
                == TelemetryRequestHead(
                    method: method, deviceID: "dev-1.a:B_9",
                    timeoutNanoseconds: 2_000_000))
        #expect(!handler.isFinished)
    }

    @Test func registeredPathsInRegistrationOrder() {
        #expect(Self.router.methodPaths
                == ["/telemetry.v1.Telemetry/Upload", "/telemetry.v1.Telemetry/Push", "/telemetry.v1.Telemetry/Sync"])
        #expect(Self.router.handles("/telemetry.v1.Telemetry/Push"))
        #expect(!Self.router.handles("/telemetry.v1.Telemetry/Nope"))
    }

    @Test func unknownPathIsUnimplementedNamingTheImplementedMethods() {
        let rejection = Self.rejection(Self.replacing(":path", with: "/telemetry.v1.Telemetry/Nope"))
        #expect(
            rejection
                == .grpc(
                    GRPCStatus(
                        .unimplemented,
                        "unknown method /telemetry.v1.Telemetry/Nope; this "
                            + "server implements /telemetry.v1.Telemetry/Upload, /telemetry.v1.Telemetry/Push, "
                            + "/telemetry.v1.Telemetry/Sync and /telemetry.v1.Telemetry/Watch")))
        #expect(
            Self.rejection(Self.replacing(":path", with: nil))
                == .grpc(
                    GRPCStatus(
                        .unimplemented,
                        "unknown method ; this server implements /telemetry.v1.Telemetry/Upload, "
                            + "/telemetry.v1.Telemetry/Push, /telemetry.v1.Telemetry/Sync and "
                            + "/telemetry.v1.Telemetry/Watch"
                    )))
    }

    @Test func wrongContentTypeIsHTTP415() {
        #expect(
            Self.rejection(Self.replacing("content-type", with: "application/json"))
                == .http(status: 415, message: "content-type must be application/grpc, got application/json"))
        #expect(
            Self.rejection(Self.replacing("content-type", with: nil))
                == .http(status: 415, message: "content-type must be application/grpc, got none"))
    }

    @Test func wrongMethodIsHTTP405() {
        #expect(
            Self.rejection(Self.replacing(":method", with: "GET"))
                == .http(status: 405, message: "gRPC requires POST, got GET"))
        #expect(
            Self.rejection(Self.replacing(":method", with: nil))
                == .http(status: 405, message: "gRPC requires POST, got no method"))
    }

    @Test func httpChecksComeBeforeThePath() {
        var head = Self.replacing(":method", with: "GET")
        head.path = "/telemetry.v1.Telemetry/Nope"
        head.metadata.removeAll(named: "content-type")
        #expect(Self.rejection(head) == .http(status: 405, message: "gRPC requires POST, got GET"))
        head.method = "POST"
        guard case .http(415, _)? = Self.rejection(head) else {
            Issue.record("expected 415")
            return
        }
    }

    @Test(
        arguments: [
            (":method", "GET", GRPCRequestRejection.http(status: 405, message: "")),
            ("content-type", "application/json", .http(status: 415, message: "")),
            ("content-type", nil, .http(status: 415, message: "")),
            ("content-type", "application/grpcx", .http(status: 415, message: "")),
            (":path", "/telemetry.v1.Telemetry/Nope", .grpc(GRPCStatus(.unimplemented))),
            ("grpc-encoding", "gzip", .grpc(GRPCStatus(.unimplemented))),
            ("grpc-timeout", "soon", .grpc(GRPCStatus(.invalidArgument))),
            ("device-id", nil, .grpc(GRPCStatus(.invalidArgument))),
            ("device-id", "has space", .grpc(GRPCStatus(.invalidArgument))),
            ("device-id", String(repeating: "x", count: 129), .grpc(GRPCStatus(.invalidArgument))),
        ] as [(String, String?, GRPCRequestRejection)])
    func refusals(name: String, value: String?, expected: GRPCRequestRejection) {
        switch (Self.rejection(Self.replacing(name, with: value)), expected) {
        case (.http(let status, let message)?, .http(let want, _)):
            #expect(status == want)
            #expect(!message.isEmpty)
        case (.grpc(let status)?, .grpc(let want)):
            #expect(status.code == want.code)
            #expect(!status.message.isEmpty)
        case (let got, _):
            Issue.record("got \(String(describing: got)), expected \(expected)")
        }
    }

    @Test func identityEncodingAndAuthorizationPassThrough() throws {
        var head = Self.replacing("grpc-encoding", with: "identity")
        head.metadata.append("authorization", "Bearer t0k")
        let handler = try Self.router.route(head)
        #expect(handler.head.authorization == "Bearer t0k")
    }

    @Test func contentTypeVariants() {
        #expect(GRPCRequestHead.isGRPCContentType("application/grpc"))
        #expect(GRPCRequestHead.isGRPCContentType("application/grpc+proto"))
        #expect(GRPCRequestHead.isGRPCContentType("application/grpc;charset=utf-8"))
        #expect(!GRPCRequestHead.isGRPCContentType("application/grpc-web"))
    }

    /// The router is generic: any handler type, any paths; the factory's thrown status refuses the call.
    @Test func genericRegistration() throws {
        var router = GRPCRouter<String>()
        router.register("/a.A/One") { head, timeout in "one \(timeout ?? 0)" }
        router.register("/a.A/Two") { _, _ throws(GRPCStatus) in throw GRPCStatus(.permissionDenied, "no") }
        router.register("/a.A/Three") { _, _ in "three" }
        var head = GRPCRequestHead(
            path: "/a.A/One", authority: "x",
            metadata: [
                "content-type": "application/grpc",
                "grpc-timeout": "5m",
            ])
        #expect(try router.route(head) == "one 5000000")
        head.path = "/a.A/Two"
        #expect(throws: GRPCRequestRejection.grpc(GRPCStatus(.permissionDenied, "no"))) { try router.route(head) }
        head.path = "/a.A/Four"
        #expect(
            throws: GRPCRequestRejection.grpc(
                GRPCStatus(
                    .unimplemented,
                    "unknown method /a.A/Four; this server implements /a.A/One, /a.A/Two and /a.A/Three"))
        ) {
            try router.route(head)
        }
    }
}
