import Testing
import GRPC

/// gRPC-Web's pieces: the content types, the trailer frame and its parse, and grpc-web-text's base64 in pieces.
@Suite struct GRPCWebTests {
    @Test func contentTypesNameTheirEncoding() {
        #expect(GRPCWebFraming.encoding(ofContentType: "application/grpc-web") == .binary)
        #expect(GRPCWebFraming.encoding(ofContentType: "Application/GRPC-Web+proto; charset=x") == .binary)
        #expect(GRPCWebFraming.encoding(ofContentType: "application/grpc-web-text") == .text)
        #expect(GRPCWebFraming.encoding(ofContentType: "application/grpc-web-text+proto") == .text)
        #expect(GRPCWebFraming.encoding(ofContentType: "application/grpc") == nil)
        #expect(GRPCWebFraming.encoding(ofContentType: "application/grpc-web+json") == nil)
    }

    @Test func theTrailerFrameIsAnHTTP1HeaderBlockAfterFlag0x80() throws {
        let ok = GRPCWebFraming.trailerFrame(.ok)
        #expect(ok == [0x80, 0, 0, 0, 16] + Array("grpc-status: 0\r\n".utf8))
        let failed = GRPCWebFraming.trailerFrame(GRPCStatus(.invalidArgument, "batch 1: bad 100%"),
                                                 trailers: ["X-Extra": "1"])
        #expect(failed[0] == 0x80)
        let length = Int(failed[1]) << 24 | Int(failed[2]) << 16 | Int(failed[3]) << 8 | Int(failed[4])
        #expect(length == failed.count - 5)
        let fields = try #require(GRPCWebFraming.parseTrailerBlock(failed.dropFirst(5)))
        #expect(fields["grpc-status"] == "3")
        #expect(fields["grpc-message"].map(GRPCMessageText.decode) == "batch 1: bad 100%")
        #expect(fields["x-extra"] == "1")
        #expect(GRPCWebFraming.parseTrailerBlock(Array("grpc-status: 0".utf8)) == nil, "no CRLF at the end")
        #expect(GRPCWebFraming.parseTrailerBlock(Array(": 0\r\n".utf8)) == nil, "no name")
    }

    @Test func base64MatchesRFC4648() throws {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=",
                       "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            #expect(GRPCWebText.encode(Array(plain.utf8)) == Array(encoded.utf8))
            var decoder = GRPCWebText()
            #expect(try decoder.decode(Array(encoded.utf8)) == Array(plain.utf8))
            try decoder.finish()
        }
    }

    @Test func piecesSplitAnywhereAndSeparatelyPaddedWritesDecode() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt8 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        let writes = [17, 1, 0, 2, 300, 5].map { count in (0..<count).map { _ in next() } }
        // A response whose writes were encoded one by one, each padded.
        let body = writes.flatMap { GRPCWebText.encode($0) }
        let expected = writes.flatMap { $0 }
        for cut in 0...body.count {
            var decoder = GRPCWebText()
            let out = try decoder.decode(body[..<cut]) + decoder.decode(body[cut...])
            #expect(out == expected)
            try decoder.finish()
        }
        var bytewise = GRPCWebText()
        var out: [UInt8] = []
        for character in body { out += try bytewise.decode([character]) }
        #expect(out == expected)
    }

    @Test(arguments: [
        ("Zm9v!", "character 0x21 at byte 4"),
        ("Zm 9v", "character 0x20 at byte 2"),
        ("Z=9v", "padding before the end of a group at byte 1"),
        ("Z===", "more than two padding characters in a group at byte 1"),
        ("Zh==", "nonzero bits before padding at byte 1"),
        ("Zm9=", "nonzero bits before padding at byte 2"),
    ])
    func badBase64IsRefusedWithItsOffset(body: String, problem: String) {
        var decoder = GRPCWebText()
        do {
            _ = try decoder.decode(Array(body.utf8))
            Issue.record("accepted \(body)")
        } catch {
            #expect(error.description.hasSuffix(problem), "\(error)")
        }
    }

    @Test func aBodyMayNotEndInsideAGroup() throws {
        var decoder = GRPCWebText()
        #expect(try decoder.decode(Array("Zm9vY".utf8)) == Array("foo".utf8))
        #expect(!decoder.isAtBoundary)
        #expect(throws: GRPCWebText.DecodeError(offset: 5, reason: "the body ends inside a 4-character group")) {
            try decoder.finish()
        }
    }
}

/// A client may not send gRPC-Web's trailer frame: its flag gets a status that says so.
struct GRPCWebClientTrailerTests {
    @Test func aTrailerFrameFromTheClientIsInvalidArgumentNamingIt() {
        let status = GRPCDeframeError.invalidFlag(0x80).status
        #expect(status.code == .invalidArgument)
        #expect(status.message.contains("trailer frame (flag 0x80)"))
        #expect(GRPCDeframeError.invalidFlag(2).status.code == .internal)
    }
}

/// How the collector turns a gRPC-Web request into the call the router knows, and its answer back into gRPC-Web.
struct GRPCWebResponseShapeTests {
    @Test func aTextRequestOrATextAcceptGetsATextAnswer() {
        #expect(GRPCWebFraming.responseEncoding(request: .text, accept: nil) == .text)
        #expect(GRPCWebFraming.responseEncoding(request: .binary, accept: nil) == .binary)
        #expect(GRPCWebFraming.responseEncoding(request: .binary, accept: "application/grpc-web-text") == .text)
        #expect(GRPCWebFraming.responseEncoding(request: .binary, accept: "*/*, application/grpc-web-text+proto")
                == .text)
        #expect(GRPCWebFraming.responseEncoding(request: .binary, accept: "application/grpc-web") == .binary)
    }

    @Test func theAnswersContentTypeIsGRPCWebsAndTheRouterSeesGRPCs() {
        let web = GRPCWebFraming.responseMetadata(["content-type": "application/grpc", "grpc-status": "0"], .text)
        #expect(web.fields == [.init("content-type", "application/grpc-web-text+proto"), .init("grpc-status", "0")])
        let head = GRPCRequestHead(path: "/telemetry.v1.Telemetry/Push", authority: "x",
                                   metadata: ["content-type": "application/grpc-web-text", "device-id": "d"])
        let routable = GRPCWebFraming.routableHead(head)
        #expect(routable.contentType == "application/grpc")
        #expect(routable.metadata["device-id"] == "d")
    }

    @Test func textBodiesAreBase64PerWrite() {
        #expect(GRPCWebFraming.body([0, 0, 0, 0, 1, 7], .binary) == [0, 0, 0, 0, 1, 7])
        #expect(GRPCWebFraming.body([0, 0, 0, 0, 1, 7], .text) == Array("AAAAAAEH".utf8))
    }
}

/// Request bodies on their way to the deframer: gRPC's and binary gRPC-Web's untouched, text decoded in pieces, bad
/// text refused by status.
struct GRPCWebRequestDecoderTests {
    private func run(_ encoding: GRPCWebFraming.Encoding?, _ pieces: [String]) -> (bytes: [UInt8], failure: GRPCStatus?) {
        var decoder = GRPCWebRequestDecoder(encoding)
        var bytes: [UInt8] = []
        for piece in pieces {
            if let failure = Array(piece.utf8).withUnsafeBytes({ decoder.decode($0) { bytes += $0 } }) {
                return (bytes, failure)
            }
        }
        return (bytes, decoder.finish())
    }

    @Test func binaryAndGRPCBodiesPassThrough() {
        #expect(run(nil, ["AB", "C"]).bytes == Array("ABC".utf8))
        #expect(run(.binary, ["AB", "C"]).bytes == Array("ABC".utf8))
        #expect(run(.binary, ["AB"]).failure == nil)
    }

    @Test func textIsDecodedAcrossPieces() {
        let result = run(.text, ["AAAAA", "AEH"])  // "AAAAAAEH" split inside a group
        #expect(result.bytes == [0, 0, 0, 0, 1, 7] && result.failure == nil)
    }

    @Test func badOrUnfinishedTextIsInvalidArgumentNamingWhere() {
        let bad = run(.text, ["AAAA", "*AAA"])
        #expect(bad.failure?.code == .invalidArgument && bad.failure?.message.contains("at byte 4") == true)
        let unfinished = run(.text, ["AAAAAA"])
        #expect(unfinished.failure?.code == .invalidArgument)
        #expect(unfinished.failure?.message.contains("inside a 4-character group") == true)
    }
}
