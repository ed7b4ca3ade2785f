import GRPC
import Telemetry
import Testing

/// The client's reading of a gRPC-Web response (Sources/GRPC/GRPCWebClientResponse.swift): the Ack frame and the
/// trailer frame, binary and base64, in pieces split anywhere; Trailers-Only; and every malformed body refused
/// with INTERNAL. (Its tests live here because the simulator is its user.)
@Suite struct GRPCWebClientResponseTests {
    /// Ack{batches: 1, readings: 40, last_seq: 17}.
    static let ack = Ack(batches: 1, readings: 40, duplicateBatches: 0, lastSeq: 17)
    static let ackFrame: [UInt8] = [
        0x00, 0x00, 0x00, 0x00, 0x06,  // message frame, 6 bytes
        0x08, 0x01,  // batches = 1
        0x10, 0x28,  // readings = 40
        0x20, 0x11,  // last_seq = 17
    ]
    static let okTrailerFrame: [UInt8] =
        [0x80, 0x00, 0x00, 0x00, 0x10]  // trailer frame, 16 bytes
        + Array("grpc-status: 0\r\n".utf8)
    static let okBody = ackFrame + okTrailerFrame
    static let headers: GRPCMetadata = ["content-type": "application/grpc-web+proto"]

    static func outcome(
        _ encoding: GRPCWebFraming.Encoding = .binary, status: Int = 200, headers: GRPCMetadata = headers,
        pieces: [[UInt8]]
    ) -> Result<Ack, GRPCStatus> {
        var response = GRPCWebClientResponse(encoding: encoding)
        response.receiveHead(httpStatus: status, headers)
        for piece in pieces { response.receiveBody(piece) }
        return response.outcome()
    }

    static func code(_ result: Result<Ack, GRPCStatus>) -> GRPCStatus.Code? {
        if case .failure(let status) = result { return status.code }
        return nil
    }

    @Test func theFramesAreTheWireContract() {
        #expect(Self.ack.protobufBytes() == Array(Self.ackFrame.dropFirst(5)))
        #expect(GRPCWebFraming.trailerFrame(GRPCStatus(.ok, "")) == Self.okTrailerFrame)
    }

    @Test func anAckAndAnOKTrailerSplitAnywhere() {
        #expect(Self.outcome(pieces: [Self.okBody]) == .success(Self.ack))
        for split in 0...Self.okBody.count {
            let pieces = [Array(Self.okBody[..<split]), Array(Self.okBody[split...])]
            #expect(Self.outcome(pieces: pieces) == .success(Self.ack), "split at \(split)")
        }
        #expect(Self.outcome(pieces: Self.okBody.map { [$0] }) == .success(Self.ack))
    }

    @Test func textIsTheSameFramesInBase64OneSegmentOrOnePerWrite() {
        let whole = Array("AAAAAAYIARAoIBGAAAAAEGdycGMtc3RhdHVzOiAwDQo=".utf8)
        #expect(GRPCWebText.encode(Self.okBody) == whole)
        // Each write encoded on its own: padding inside the body.
        let segments = Array("AAAAAAYIARAoIBE=".utf8) + Array("gAAAABBncnBjLXN0YXR1czogMA0K".utf8)
        for body in [whole, segments] {
            for split in 0...body.count {
                let pieces = [Array(body[..<split]), Array(body[split...])]
                #expect(Self.outcome(.text, pieces: pieces) == .success(Self.ack), "split at \(split)")
            }
            #expect(Self.outcome(.text, pieces: body.map { [$0] }) == .success(Self.ack))
        }
    }

    @Test func trailersOnlyCarriesTheStatusInTheHeaders() {
        let headers: GRPCMetadata = [
            "content-type": "application/grpc-web+proto", "grpc-status": "14", "grpc-message": "write%20queue%20full",
        ]
        #expect(Self.outcome(headers: headers, pieces: []) == .failure(GRPCStatus(.unavailable, "write queue full")))
        #expect(Self.code(Self.outcome(.text, headers: headers, pieces: [])) == .unavailable)
    }

    @Test(arguments: [(8, GRPCStatus.Code.resourceExhausted), (16, .unauthenticated), (3, .invalidArgument)])
    func aNonZeroStatusInTheTrailerFrameIsThatStatus(code: Int, expected: GRPCStatus.Code) {
        let block = Array("grpc-status: \(code)\r\ngrpc-message: no\r\n".utf8)
        let trailer = [0x80, 0, 0, 0, UInt8(block.count)] + block
        #expect(Self.outcome(pieces: [trailer]) == .failure(GRPCStatus(expected, "no")))
    }

    @Test func anHTTPErrorWithoutGRPCStatusMapsAsGRPCDoes() {
        #expect(Self.code(Self.outcome(status: 503, headers: [:], pieces: [Array("busy".utf8)])) == .unavailable)
        #expect(Self.code(Self.outcome(status: 401, headers: [:], pieces: [])) == .unauthenticated)
    }

    @Test(
        arguments: [
            ("no trailers", ackFrame),
            ("no Ack", okTrailerFrame),
            ("two Acks", ackFrame + ackFrame + okTrailerFrame),
            ("a frame after the trailers", okBody + ackFrame),
            ("a compressed frame", [0x01] + Array(ackFrame.dropFirst()) + okTrailerFrame),
            ("an unknown flag", [0x40] + Array(ackFrame.dropFirst()) + okTrailerFrame),
            ("the body ends inside a frame", Array(okBody.dropLast())),
            ("a trailer block that is not name: value lines", [0x80, 0, 0, 0, 4] + Array("oops".utf8)),
            ("an Ack that does not decode", [0x00, 0, 0, 0, 1, 0xFF] + okTrailerFrame),
        ] as [(String, [UInt8])])
    func aMalformedBodyIsInternal(problem: String, body: [UInt8]) {
        #expect(Self.code(Self.outcome(pieces: [body])) == .internal, "\(problem)")
    }

    @Test func anOversizedFrameIsRefusedAtItsPrefix() {
        var response = GRPCWebClientResponse(encoding: .binary)
        response.receiveHead(httpStatus: 200, Self.headers)
        response.receiveBody([0x00, 0x00, 0x01, 0x00, 0x01])  // 65,537 bytes announced; none of them sent
        guard case .failure(let status) = response.outcome() else {
            Issue.record("accepted")
            return
        }
        #expect(status == GRPCStatus(.internal, "response frame of 65537 bytes (limit 65536)"))
    }

    @Test func textThatIsNotBase64IsInternalWithTheOffset() {
        let result = Self.outcome(.text, pieces: [Array("AAAA".utf8), Array("AA*A".utf8)])
        #expect(result == .failure(GRPCStatus(.internal, "grpc-web-text body is not base64: character 0x2a at byte 6")))
        #expect(Self.code(Self.outcome(.text, pieces: [Array("AAAAAAYIARAoIBE".utf8)])) == .internal)  // cut group
    }
}
