import GRPC
import Telemetry
import Testing

/// Server reflection driven purely by parts: requests spelled out as protobuf, responses read back field by field
/// (field numbers of grpc/reflection/v1/reflection.proto), answered from the served descriptor set.
@Suite struct ServerReflectionCallHandlerTests {
    /// ServerReflectionRequest with `host` (field 1) and one oneof member `field` carrying `value`.
    static func request(_ field: Int, _ value: [UInt8], host: String = "") -> [UInt8] {
        var writer = ProtobufMessageWriter()
        writer.appendString(1, host)
        writer.appendLengthDelimited(field, value)
        return writer.bytes
    }

    static func request(_ field: Int, _ text: String, host: String = "") -> [UInt8] {
        request(field, Array(text.utf8), host: host)
    }

    /// A ServerReflectionResponse as fields: valid_host (1), original_request (2), and its answer's field and bytes.
    struct Response {
        var validHost = ""
        var originalRequest: [UInt8] = []
        var answerField = 0
        var answer: [ProtobufField] = []

        init(_ bytes: [UInt8]) throws {
            for field in try ProtobufField.fields(of: bytes) {
                switch field.number {
                case 1: validHost = field.string ?? "?"
                case 2: originalRequest = Array(field.bytes ?? [])
                default:
                    answerField = field.number
                    answer = try ProtobufField.fields(of: try #require(field.bytes))
                }
            }
        }

        /// error_response's code (field 1).
        var errorCode: UInt64? { answerField == 7 ? answer.first { $0.number == 1 }?.varint ?? 0 : nil }
        /// The names of the files in file_descriptor_response (each a FileDescriptorProto, name = field 1).
        var fileNames: [String] {
            get throws {
                guard answerField == 4 else { return [] }
                return try answer.map { file in
                    try ProtobufField.fields(of: try #require(file.bytes)).first { $0.number == 1 }?.string ?? "?"
                }
            }
        }
    }

    /// Feeds `requests` as one chunk and returns the responses, checking the parts' shape on the way.
    static func exchange(_ requests: [[UInt8]], end: Bool = true) throws -> [Response] {
        let handler = ServerReflectionCallHandler(index: .served)
        var chunk: [UInt8] = []
        for request in requests { GRPCMessageFramer.append(request, to: &chunk) }
        var parts = chunk.withUnsafeBytes { handler.receive($0) }
        if end { parts += handler.receiveEnd() }
        #expect(parts.first == .headers(.responseHeaders))
        #expect(parts.filter { $0 == .headers(.responseHeaders) }.count == 1, "headers once per call")
        if end { #expect(parts.last == .status(.ok, trailers: GRPCMetadata())) }
        return try parts.compactMap { part in
            if case .message(let bytes) = part { try Response(bytes) } else { nil }
        }
    }

    static let servedFiles = [
        "grpc/health/v1/health.proto", "grpc/reflection/v1/reflection.proto",
        "grpc/reflection/v1alpha/reflection.proto", "telemetry/v1/telemetry.proto",
    ]

    @Test func listServicesNamesEveryServiceServed() throws {
        let request = Self.request(7, "*", host: "collector.example")
        let responses = try Self.exchange([request])
        #expect(responses.count == 1)
        let response = try #require(responses.first)
        #expect(response.validHost == "collector.example")
        #expect(response.originalRequest == request)
        #expect(response.answerField == 6)
        let names = try response.answer.map { service in
            try ProtobufField.fields(of: try #require(service.bytes)).first { $0.number == 1 }?.string
        }
        #expect(names == ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                          "grpc.reflection.v1alpha.ServerReflection", "telemetry.v1.Telemetry"])
    }

    @Test(arguments: [
        ("telemetry.v1.Telemetry", "telemetry/v1/telemetry.proto"),
        ("telemetry.v1.Telemetry.Upload", "telemetry/v1/telemetry.proto"),
        ("telemetry.v1.Telemetry.Sync", "telemetry/v1/telemetry.proto"),
        ("telemetry.v1.Batch", "telemetry/v1/telemetry.proto"),
        (".telemetry.v1.Ack", "telemetry/v1/telemetry.proto"),
        ("telemetry.v1.Batch.seq", "telemetry/v1/telemetry.proto"),
        ("grpc.health.v1.Health", "grpc/health/v1/health.proto"),
        ("grpc.health.v1.Health.Watch", "grpc/health/v1/health.proto"),
        ("grpc.health.v1.HealthCheckResponse.ServingStatus", "grpc/health/v1/health.proto"),
        ("grpc.health.v1.HealthCheckResponse.SERVING", "grpc/health/v1/health.proto"),
        ("grpc.reflection.v1.ServerReflection.ServerReflectionInfo", "grpc/reflection/v1/reflection.proto"),
        ("grpc.reflection.v1alpha.ServerReflectionRequest.message_request", "grpc/reflection/v1alpha/reflection.proto"),
    ])
    func fileContainingSymbolSendsTheFileThatDeclaresIt(symbol: String, file: String) throws {
        let response = try #require(try Self.exchange([Self.request(4, symbol)]).first)
        #expect(response.answerField == 4)
        #expect(try response.fileNames == [file], "no file served imports another")
        let bytes = try #require(response.answer.first?.bytes)
        #expect(Array(bytes) == ProtoDescriptorIndex.served.file(named: file)?.bytes)
    }

    @Test(arguments: servedFiles)
    func fileByFilenameSendsTheFileByteForByte(name: String) throws {
        let response = try #require(try Self.exchange([Self.request(3, name)]).first)
        #expect(try response.fileNames == [name])
        let bytes = try #require(response.answer.first?.bytes)
        #expect(Array(bytes) == ProtoDescriptorIndex.served.file(named: name)?.bytes)
    }

    @Test(arguments: [
        (3, "telemetry/v2/telemetry.proto"), (4, "telemetry.v1.Nope"), (4, "telemetry.v1"), (4, "Batch"),
        (6, "telemetry.v1.Telemetry"), (6, "telemetry.v1.Nope"),
    ])
    func unknownNamesAreNotFoundAndTheStreamGoesOn(field: Int, name: String) throws {
        let responses = try Self.exchange([Self.request(field, name), Self.request(7, "")])
        #expect(responses.map(\.answerField) == [7, 6], "an error response, then the next request's answer")
        #expect(responses.first?.errorCode == 5)  // NOT_FOUND
    }

    @Test func extensionQueriesFindNoExtensions() throws {
        var extensionRequest = ProtobufMessageWriter()
        extensionRequest.appendString(1, "telemetry.v1.Batch")
        extensionRequest.appendVarint(2, 100)
        let responses = try Self.exchange([
            Self.request(5, extensionRequest.bytes), Self.request(6, "telemetry.v1.Batch"),
        ])
        #expect(responses.first?.errorCode == 5)
        let numbers = try #require(responses.last)
        #expect(numbers.answerField == 5)
        #expect(numbers.answer == [ProtobufField(1, .lengthDelimited(Array("telemetry.v1.Batch".utf8)[...]))])
    }

    @Test func aRequestWithNoQueryIsInvalidArgument() throws {
        let responses = try Self.exchange([Self.request(1, "host-only")])
        #expect(responses.first?.errorCode == 3)
    }

    @Test func eachRequestIsAnsweredAsItArrivesSplitAnywhere() throws {
        var chunk: [UInt8] = []
        GRPCMessageFramer.append(Self.request(7, ""), to: &chunk)
        GRPCMessageFramer.append(Self.request(4, "telemetry.v1.Telemetry"), to: &chunk)
        for cut in 0...chunk.count {
            let handler = ServerReflectionCallHandler(index: .served)
            let first = chunk[..<cut].withUnsafeBytes { handler.receive($0) }
            let second = chunk[cut...].withUnsafeBytes { handler.receive($0) }
            let isMessage = { (part: GRPCResponsePart) in if case .message = part { true } else { false } }
            #expect((first + second).filter(isMessage).count == 2, "split at \(cut)")
            // The first request is 7 bytes framed: answered in the first piece once the piece holds it whole.
            #expect(first.filter(isMessage).count == (cut == chunk.count ? 2 : cut >= 7 ? 1 : 0), "split at \(cut)")
            #expect(handler.receiveEnd() == [.status(.ok, trailers: GRPCMetadata())])
        }
    }

    @Test func aCallWithNoRequestEndsOKAsALoneStatus() {
        let handler = ServerReflectionCallHandler(index: .served)
        #expect(handler.receiveEnd() == [.status(.ok, trailers: GRPCMetadata())])
        #expect(handler.isFinished)
    }

    @Test func anOversizedRequestIsRefusedAtItsLengthPrefix() {
        let handler = ServerReflectionCallHandler(index: .served)
        let prefix: [UInt8] = [0, 0x7f, 0xff, 0xff, 0xff]
        let parts = prefix.withUnsafeBytes { handler.receive($0) }
        guard case .status(let status, _) = parts.last else {
            Issue.record("expected a status, got \(parts)")
            return
        }
        #expect(status.code == .resourceExhausted)
        #expect(handler.bufferedBytes == 0)
    }
}
