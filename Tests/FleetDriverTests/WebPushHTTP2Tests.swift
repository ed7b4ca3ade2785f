import GRPC
import HTTP2
import Simulation
import Telemetry
import Testing

@testable import FleetDriver

/// The simulator's gRPC-Web and Connect Push over HTTP/2 (`--web-http 2`, device-sim/Driver/WebPush+HTTP2.swift):
/// each form's header block field by field, the same fields as its HTTP/1.1 head, and the answer read from the
/// response HEADERS and DATA with HTTP/1.1's readers.
@Suite struct WebPushHTTP2Tests {
    static func block(_ form: WebPush, authorization: String? = "Bearer k", isTLS: Bool = false)
        -> [HTTP2HeaderField]
    {
        form.makeHTTP2Fields(
            deviceID: "dev-00001", authorization: authorization, authority: "127.0.0.1:8080", isTLS: isTLS)
    }

    static func fields(_ pairs: (String, String)...) -> [HTTP2HeaderField] {
        pairs.map { HTTP2HeaderField($0.0, $0.1) }
    }

    static let pseudo = fields(
        (":method", "POST"), (":scheme", "http"), (":path", "/telemetry.v1.Telemetry/Push"),
        (":authority", "127.0.0.1:8080"))

    @Test func grpcWebBinaryHeaders() {
        #expect(
            Self.block(.grpcWeb(.binary)) == Self.pseudo
                + Self.fields(
                    ("content-type", "application/grpc-web+proto"),
                    ("x-grpc-web", "1"),
                    ("device-id", "dev-00001"),
                    ("authorization", "Bearer k")))
    }

    @Test func grpcWebTextHeadersWithoutAToken() {
        #expect(
            Self.block(.grpcWeb(.text), authorization: nil) == Self.pseudo
                + Self.fields(
                    ("content-type", "application/grpc-web-text"),
                    ("x-grpc-web", "1"),
                    ("device-id", "dev-00001")))
    }

    @Test(arguments: [(ConnectCodec.proto, "application/proto"), (.json, "application/json")])
    func connectHeaders(codec: ConnectCodec, contentType: String) {
        #expect(
            Self.block(.connect(codec)) == Self.pseudo
                + Self.fields(
                    ("content-type", contentType),
                    ("connect-protocol-version", "1"),
                    ("device-id", "dev-00001"),
                    ("authorization", "Bearer k")))
    }

    @Test func overTLSTheSchemeIsHTTPS() {
        let block = Self.block(.connect(.proto), isTLS: true)
        #expect(block[":scheme"] == "https")
        #expect(block.filter { $0.name != ":scheme" } == Self.block(.connect(.proto)).filter { $0.name != ":scheme" })
    }

    /// No `te: trailers` (a browser cannot send it), no content-length (END_STREAM ends the body), names lower-case;
    /// otherwise the HTTP/1.1 head's fields in its order.
    @Test(arguments: [WebPush.grpcWeb(.binary), .grpcWeb(.text), .connect(.proto), .connect(.json)])
    func theHeaderBlockIsTheHTTP1HeadsFields(form: WebPush) throws {
        let request = WebPushTests.request(form)
        let headEnd = try #require(request.indices.first { request[$0...].starts(with: Array("\r\n\r\n".utf8)) })
        let lines = String(decoding: request[..<headEnd], as: UTF8.self).components(separatedBy: "\r\n").dropFirst()
        let http1 = lines.compactMap { line -> HTTP2HeaderField? in
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard !["host", "content-length"].contains(parts[0].lowercased()) else { return nil }
            return HTTP2HeaderField(parts[0].lowercased(), parts[1])
        }
        let block = Self.block(form)
        #expect(Array(block.dropFirst(4)) == http1)
        #expect(block.allSatisfy { $0.name == $0.name.lowercased() })
        #expect(block["te"] == nil && block["content-length"] == nil)
    }

    // MARK: Answers

    static func answer(
        _ form: WebPush, headers: [HTTP2HeaderField], data: [[UInt8]] = [], trailers: [HTTP2HeaderField]? = nil,
        errorCode: UInt32 = 0
    ) -> CallOutcome {
        var response = WebPushHTTP2Response(form: form)
        response.receiveHeaders(headers)
        for piece in data { piece.withUnsafeBytes { response.receiveData($0) } }
        if let trailers { response.receiveHeaders(trailers) }
        return response.outcome(errorCode: errorCode)
    }

    static let okBody = [0x00, 0x00, 0x00, 0x00, 0x06] + WebPushTests.ackBytes + WebPushTests.okTrailer

    @Test func grpcWebAckInDataSplitAnywhere() {
        let headers = Self.fields((":status", "200"), ("content-type", "application/grpc-web+proto"))
        for split in 0...Self.okBody.count {
            let pieces = [Array(Self.okBody[..<split]), Array(Self.okBody[split...])]
            #expect(Self.answer(.grpcWeb(.binary), headers: headers, data: pieces) == .acked(WebPushTests.ack))
        }
        let text = Self.fields((":status", "200"), ("content-type", "application/grpc-web-text+proto"))
        #expect(
            Self.answer(.grpcWeb(.text), headers: text, data: [GRPCWebText.encode(Self.okBody)])
                == .acked(WebPushTests.ack))
    }

    @Test func grpcWebTrailersOnlyAndHTTPTrailersThatAreNotUsed() {
        let busy = Self.fields(
            (":status", "200"), ("content-type", "application/grpc-web+proto"), ("grpc-status", "14"))
        #expect(Self.answer(.grpcWeb(.binary), headers: busy) == .failed(.grpcStatus(14)))
        // The status lives in the trailer frame; an HTTP/2 trailer block does not make a body without one OK.
        let headers = Self.fields((":status", "200"), ("content-type", "application/grpc-web+proto"))
        let ackOnly = [[0x00, 0x00, 0x00, 0x00, 0x06] + WebPushTests.ackBytes]
        #expect(
            Self.answer(.grpcWeb(.binary), headers: headers, data: ackOnly, trailers: Self.fields(("grpc-status", "0")))
                == .failed(.grpcStatus(13)))
    }

    @Test func connectAckAndErrors() {
        let ok = Self.fields((":status", "200"), ("content-type", "application/proto"))
        #expect(Self.answer(.connect(.proto), headers: ok, data: [WebPushTests.ackBytes]) == .acked(WebPushTests.ack))
        let refused = Self.fields((":status", "401"), ("content-type", "application/json"))
        #expect(
            Self.answer(.connect(.proto), headers: refused, data: [Array(#"{"code":"unauthenticated"}"#.utf8)])
                == .failed(.grpcStatus(16)))
        let json = Self.fields((":status", "200"), ("content-type", "application/json"))
        let ack = Array(#"{"batches":"1","readings":"40","lastSeq":"17"}"#.utf8)
        #expect(
            Self.answer(.connect(.json), headers: json, data: [Array(ack[..<9]), Array(ack[9...])])
                == .acked(WebPushTests.ack))
    }

    @Test func anInterimHeaderBlockIsNotTheAnswer() {
        var response = WebPushHTTP2Response(form: .connect(.proto))
        response.receiveHeaders(Self.fields((":status", "100")))
        response.receiveHeaders(Self.fields((":status", "200"), ("content-type", "application/proto")))
        WebPushTests.ackBytes.withUnsafeBytes { response.receiveData($0) }
        #expect(response.outcome(errorCode: 0) == .acked(WebPushTests.ack))
    }

    /// A stream that ends without an answer, or is reset, is judged as gRPC judges it, for both forms.
    @Test(arguments: [(UInt32(7), 14), (8, 1), (11, 8), (2, 13), (0, 13)])
    func aStreamWithoutAnAnswer(errorCode: UInt32, code: Int) {
        for form in [WebPush.grpcWeb(.binary), .connect(.json)] {
            var response = WebPushHTTP2Response(form: form)
            #expect(response.outcome(errorCode: errorCode) == .failed(.grpcStatus(code)))
            response.receiveHeaders(Self.fields((":status", "200")))
            if errorCode != 0 { #expect(response.outcome(errorCode: errorCode) == .failed(.grpcStatus(code))) }
        }
    }

    @Test func aBodyPastHTTP1sLimitIsRefusedAtTheFrameThatPassesIt() {
        var response = WebPushHTTP2Response(form: .connect(.proto))
        response.receiveHeaders(Self.fields((":status", "200"), ("content-type", "application/proto")))
        let chunk = [UInt8](repeating: 0, count: 1 << 14)
        for _ in 0..<(WebPushHTTP2Response.maxBodyBytes / chunk.count) {
            chunk.withUnsafeBytes { response.receiveData($0) }
        }
        [0x00].withUnsafeBytes { response.receiveData($0) }
        #expect(response.outcome(errorCode: 0) == .failed(.malformedResponse))
    }
}
