// The Connect protocol's pure parts (connectrpc.com/docs/protocol): content types, the code and HTTP status table,
// the error body, the headers, and the envelopes of a server stream.

import Telemetry
import Testing

@testable import GRPC

@Suite("Connect protocol")
struct ConnectProtocolTests {
    // MARK: Content types

    @Test(
        "unary content types",
        arguments: [
            ("application/proto", ConnectProtocol.Codec?.some(.proto)),
            ("application/json", .json),
            ("Application/JSON", .json),
            ("application/json; charset=utf-8", .json),
            ("application/json;charset=UTF-8", .json),
            ("application/json; charset=\"utf-8\"", .json),
            ("application/json; charset=latin1", nil),
            ("application/proto; foo=bar", .proto),
            ("application/connect+json", nil),
            ("application/grpc", nil),
            ("application/grpc-web+proto", nil),
            ("text/plain", nil),
            ("", nil),
        ])
    func unaryContentTypes(value: String, codec: ConnectProtocol.Codec?) {
        #expect(ConnectProtocol.unaryCodec(ofContentType: value) == codec)
    }

    @Test("streaming content types")
    func streamingContentTypes() {
        #expect(ConnectProtocol.streamingCodec(ofContentType: "application/connect+proto") == .proto)
        #expect(ConnectProtocol.streamingCodec(ofContentType: "application/Connect+JSON; charset=utf-8") == .json)
        #expect(ConnectProtocol.streamingCodec(ofContentType: "application/json") == nil)
        #expect(ConnectProtocol.streamingCodec(ofContentType: "application/connect+thrift") == nil)
        #expect(ConnectProtocol.unaryContentType(.proto) == "application/proto")
        #expect(ConnectProtocol.unaryContentType(.json) == "application/json")
        #expect(ConnectProtocol.streamingContentType(.proto) == "application/connect+proto")
        #expect(ConnectProtocol.streamingContentType(.json) == "application/connect+json")
    }

    // MARK: Codes

    @Test(
        "every code's Connect name and HTTP status, as the protocol's table says",
        arguments: [
            (GRPCStatus.Code.cancelled, "canceled", 499),
            (.unknown, "unknown", 500),
            (.invalidArgument, "invalid_argument", 400),
            (.deadlineExceeded, "deadline_exceeded", 504),
            (.notFound, "not_found", 404),
            (.alreadyExists, "already_exists", 409),
            (.permissionDenied, "permission_denied", 403),
            (.resourceExhausted, "resource_exhausted", 429),
            (.failedPrecondition, "failed_precondition", 400),
            (.aborted, "aborted", 409),
            (.outOfRange, "out_of_range", 400),
            (.unimplemented, "unimplemented", 501),
            (.internal, "internal", 500),
            (.unavailable, "unavailable", 503),
            (.dataLoss, "data_loss", 500),
            (.unauthenticated, "unauthenticated", 401),
        ])
    func codes(code: GRPCStatus.Code, name: String, httpStatus: Int) {
        #expect(code.connectName == name)
        #expect(code.connectHTTPStatus == httpStatus)
        #expect(GRPCStatus.Code(connectName: name) == code)
    }

    @Test("the table covers every code; OK is no error code and unknown names are refused")
    func codeEdges() {
        #expect(GRPCStatus.Code.allCases.count == 17)
        #expect(GRPCStatus.Code.ok.connectName == "unknown")
        #expect(GRPCStatus.Code.ok.connectHTTPStatus == 500)
        #expect(GRPCStatus.Code(connectName: "ok") == nil)
        #expect(GRPCStatus.Code(connectName: "cancelled") == nil, "Connect spells it canceled")
        #expect(GRPCStatus.Code(connectName: "INVALID_ARGUMENT") == nil)
    }

    // MARK: The error body

    @Test("the error body: code, then the message, escaped")
    func errorBody() {
        let status = GRPCStatus(.invalidArgument, "series[0].colour: unknown field \"x\"\n(at byte 35)")
        #expect(
            String(decoding: status.connectErrorJSON, as: UTF8.self)
                == #"{"code":"invalid_argument","message":"series[0].colour: unknown field \"x\"\n(at byte 35)"}"#)
        #expect(
            String(decoding: GRPCStatus(.unauthenticated).connectErrorJSON, as: UTF8.self)
                == #"{"code":"unauthenticated"}"#)
    }

    @Test("a client reads the error body back, or falls back on the HTTP status")
    func errorBodyRoundTrip() {
        for code in GRPCStatus.Code.allCases where code != .ok {
            let status = GRPCStatus(code, "why: \(code.name) ü \u{1}")
            #expect(GRPCStatus(connectErrorBody: status.connectErrorJSON, httpStatus: code.connectHTTPStatus) == status)
        }
        #expect(GRPCStatus(connectErrorBody: Array("<html>".utf8), httpStatus: 503).code == .unavailable)
        #expect(GRPCStatus(connectErrorBody: Array(#"{"code":"nope"}"#.utf8), httpStatus: 404).code == .unimplemented)
        #expect(GRPCStatus(connectErrorBody: [], httpStatus: 401).code == .unauthenticated)
    }

    // MARK: Headers

    @Test(
        "Connect-Timeout-Ms: 1 to 10 digits, in nanoseconds",
        arguments: [
            ("1", UInt64?.some(1_000_000)),
            ("0", 0),
            ("1500", 1_500_000_000),
            ("9999999999", 9_999_999_999_000_000),
            ("0000000001", 1_000_000),
            ("", nil),
            ("12345678901", nil),
            ("-1", nil),
            ("1.5", nil),
            (" 1", nil),
            ("1s", nil),
            ("١", nil),  // an Arabic-Indic digit is not ASCII
        ])
    func timeout(value: String, nanoseconds: UInt64?) {
        let result = Result { () throws(GRPCStatus) in try ConnectProtocol.parseTimeout(value) }
        switch result {
        case .success(let parsed): #expect(parsed == nanoseconds)
        case .failure(let status):
            #expect(nanoseconds == nil)
            #expect(
                status == GRPCStatus(.invalidArgument, "connect-timeout-ms \"\(value)\" must be 1 to 10 ASCII digits"))
        }
    }

    @Test("Connect-Protocol-Version: absent or 1")
    func protocolVersion() throws {
        try ConnectProtocol.checkProtocolVersion(nil)
        try ConnectProtocol.checkProtocolVersion("1")
        #expect(throws: GRPCStatus(.invalidArgument, "connect-protocol-version \"2\" is not supported; send 1")) {
            try ConnectProtocol.checkProtocolVersion("2")
        }
        #expect(throws: GRPCStatus.self) { try ConnectProtocol.checkProtocolVersion("") }
        #expect(throws: GRPCStatus.self) { try ConnectProtocol.checkProtocolVersion("1 ") }
    }

    @Test("content encodings: identity only")
    func contentEncoding() throws {
        try ConnectProtocol.checkContentEncoding(nil)
        try ConnectProtocol.checkContentEncoding("identity")
        try ConnectProtocol.checkContentEncoding("Identity")
        #expect(throws: GRPCStatus(.unimplemented, "content encoding \"gzip\" is not supported; send identity")) {
            try ConnectProtocol.checkContentEncoding("gzip")
        }
    }

    // MARK: Envelopes

    @Test("a message envelope: flags 0, big-endian length, the bytes")
    func messageEnvelope() {
        #expect(ConnectEnvelope.frame(message: [0xAA, 0xBB]) == [0x00, 0, 0, 0, 2, 0xAA, 0xBB])
        #expect(ConnectEnvelope.frame(message: []) == [0x00, 0, 0, 0, 0])
        let big = [UInt8](repeating: 7, count: 0x01_02_03)
        #expect(ConnectEnvelope.frame(message: big).prefix(5) == [0x00, 0x00, 0x01, 0x02, 0x03])
    }

    @Test("the end-of-stream envelope: flags 2 and JSON")
    func endStreamEnvelope() throws {
        let ok = ConnectEnvelope.endStream(error: nil)
        #expect(ok == [0x02, 0, 0, 0, 2] + Array("{}".utf8))
        #expect(ConnectEnvelope.endStream(error: .ok) == ok)
        let failed = ConnectEnvelope.endStream(
            error: GRPCStatus(.resourceExhausted, "watcher fell behind"),
            metadata: ["X-Dropped": "12", "x-dropped": "13", "x-other": "a\"b"])
        let json =
            #"{"error":{"code":"resource_exhausted","message":"watcher fell behind"},"#
            + #""metadata":{"x-dropped":["12","13"],"x-other":["a\"b"]}}"#
        #expect(failed == [0x02, 0, 0, 0, UInt8(json.utf8.count)] + Array(json.utf8))
        let (status, metadata) = try #require(ConnectEnvelope.parseEndStream(failed.dropFirst(5)))
        #expect(status == GRPCStatus(.resourceExhausted, "watcher fell behind"))
        #expect(metadata.values(for: "x-dropped") == ["12", "13"])
        #expect(metadata["x-other"] == "a\"b")
        #expect(ConnectEnvelope.parseEndStream(Array("{}".utf8))?.0 == .ok)
        #expect(ConnectEnvelope.parseEndStream(Array("[]".utf8)) == nil)
        #expect(ConnectEnvelope.parseEndStream(Array(#"{"error":{"code":"bogus"}}"#.utf8)) == nil)
        #expect(ConnectEnvelope.parseEndStream(Array(#"{"metadata":{"a":"b"}}"#.utf8)) == nil)
    }

    @Test("the request reader takes envelopes split anywhere")
    func readerSplitsAnywhere() throws {
        let first: [UInt8] = Array(#"{"devices":["d1"]}"#.utf8)
        let second: [UInt8] = [1, 2, 3]
        let body =
            ConnectEnvelope.frame(message: first) + ConnectEnvelope.frame(message: [])
            + ConnectEnvelope.frame(message: second)
        for split in 0...body.count {
            var reader = ConnectEnvelopeReader()
            var messages = try reader.append(body[..<split])
            messages += try reader.append(body[split...])
            try reader.finish()
            #expect(messages == [first, [], second], "split at \(split)")
            #expect(reader.messageCount == 3)
        }
        var reader = ConnectEnvelopeReader()
        var messages: [[UInt8]] = []
        for byte in body { messages += try reader.append([byte]) }
        #expect(messages == [first, [], second])
        #expect(reader.bufferedBytes == 0)
    }

    @Test(
        "the request reader refuses what a client must not send",
        arguments: [
            (
                [0x01, 0, 0, 0, 1, 9] as [UInt8], GRPCStatus.Code.unimplemented,
                "compressed envelope, but no connect-content-encoding was negotiated (only identity is supported)"
            ),
            (
                [0x02, 0, 0, 0, 2] + Array("{}".utf8), .invalidArgument,
                "end-of-stream envelope (flags 0x02) from the client: only the server ends a stream with one"
            ),
            (
                [0x03, 0, 0, 0, 0], .invalidArgument,
                "end-of-stream envelope (flags 0x03) from the client: only the server ends a stream with one"
            ),
            ([0x80, 0, 0, 0, 0], .invalidArgument, "invalid envelope flags 0x80"),
            ([0x00, 0, 0, 0, 101], .resourceExhausted, "message of 101 bytes exceeds the limit of 100 bytes"),
        ])
    func readerRefuses(bytes: [UInt8], code: GRPCStatus.Code, message: String) {
        var reader = ConnectEnvelopeReader(maxMessageBytes: 100)
        #expect(throws: GRPCStatus(code, message)) { _ = try reader.append(bytes) }
    }

    @Test("a body that ends inside an envelope is refused at the end")
    func readerTruncated() throws {
        var reader = ConnectEnvelopeReader()
        #expect(try reader.append([0x00, 0, 0, 0, 4, 1, 2]).isEmpty)
        #expect(reader.bufferedBytes == 7)
        #expect(throws: GRPCStatus(.invalidArgument, "the request body ends inside an envelope (7 bytes of it)")) {
            try reader.finish()
        }
        var empty = ConnectEnvelopeReader()
        #expect(try empty.append([]).isEmpty)
        try empty.finish()
    }

    @Test("the limit is checked at the prefix, before the message is buffered")
    func readerLimitAtPrefix() {
        var reader = ConnectEnvelopeReader(maxMessageBytes: 1024)
        // Only the prefix of a 16 MiB message has arrived: refused now.
        #expect(throws: GRPCStatus.self) { _ = try reader.append([0x00, 0x01, 0x00, 0x00, 0x00]) }
    }
}
