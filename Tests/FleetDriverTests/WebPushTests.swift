import GRPC
import Simulation
import Telemetry
import Testing

@testable import FleetDriver

/// The simulator's gRPC-Web and Connect Push over HTTP/1.1 (device-sim/Driver/WebPush.swift): each form's request
/// byte for byte, and what each kind of answer means for the device.
@Suite struct WebPushTests {
    /// Batch 7: sensor "t", exponent −1, from 1 s at 1 s spacing, mantissas 215, 216.
    static let batch = Batch(
        seq: 7,
        series: [
            Series(sensor: "t", exponent: -1, startMs: 1000, intervalMs: 1000, mantissaDeltas: [215, 1])
        ])
    static let batchBytes: [UInt8] = [
        0x08, 0x07,  // seq = 7
        0x12, 0x10,  // series, 16 bytes:
        0x0A, 0x01, 0x74,  //   sensor = "t"
        0x10, 0x01,  //   exponent = -1 (zigzag 1)
        0x18, 0xE8, 0x07,  //   start_ms = 1000
        0x20, 0xE8, 0x07,  //   interval_ms = 1000
        0x2A, 0x03, 0xAE, 0x03, 0x02,  //   mantissa_deltas = [215, 1] (zigzag 430, 2), packed
    ]
    static let prefix: [UInt8] = [0x00, 0x00, 0x00, 0x00, 0x14]  // message frame, 20 bytes

    static func request(_ form: WebPush, authorization: String? = "Bearer k") -> [UInt8] {
        form.makeRequest(
            batch, deviceID: "dev-00001", authorization: authorization, authority: "127.0.0.1:8080",
            packsDeltas: false)
    }

    static func head(_ lines: String...) -> [UInt8] {
        Array((lines.map { $0 + "\r\n" }.joined() + "\r\n").utf8)
    }

    @Test func theBatchIsTheOneAUnaryDeviceSends() {
        #expect(Self.batch.protobufBytes() == Self.batchBytes)
        #expect(
            WebPush.connect(.proto).makeBody(Self.batch, packsDeltas: true)
                == Self.batch.protobufBytes(packingDeltas: true))
    }

    @Test func grpcWebBinaryRequest() {
        #expect(
            Self.request(.grpcWeb(.binary)) == Self.head(
                "POST /telemetry.v1.Telemetry/Push HTTP/1.1",
                "Host: 127.0.0.1:8080",
                "Content-Type: application/grpc-web+proto",
                "x-grpc-web: 1",
                "device-id: dev-00001",
                "authorization: Bearer k",
                "Content-Length: 25") + Self.prefix + Self.batchBytes)
    }

    @Test func grpcWebTextRequestIsTheFrameInBase64() {
        #expect(
            Self.request(.grpcWeb(.text), authorization: nil) == Self.head(
                "POST /telemetry.v1.Telemetry/Push HTTP/1.1",
                "Host: 127.0.0.1:8080",
                "Content-Type: application/grpc-web-text",
                "x-grpc-web: 1",
                "device-id: dev-00001",
                "Content-Length: 36") + Array("AAAAABQIBxIQCgF0EAEY6Acg6AcqA64DAg==".utf8))
    }

    @Test func connectProtoRequestIsTheBareBatch() {
        #expect(
            Self.request(.connect(.proto)) == Self.head(
                "POST /telemetry.v1.Telemetry/Push HTTP/1.1",
                "Host: 127.0.0.1:8080",
                "Content-Type: application/proto",
                "Connect-Protocol-Version: 1",
                "device-id: dev-00001",
                "authorization: Bearer k",
                "Content-Length: 20") + Self.batchBytes)
    }

    @Test func connectJSONRequestIsTheBatchInProto3JSON() {
        let json =
            #"{"seq":"7","series":[{"sensor":"t","exponent":-1,"startMs":"1000","intervalMs":1000,"#
            + #""mantissaDeltas":["215","1"]}]}"#
        #expect(
            Self.request(.connect(.json)) == Self.head(
                "POST /telemetry.v1.Telemetry/Push HTTP/1.1",
                "Host: 127.0.0.1:8080",
                "Content-Type: application/json",
                "Connect-Protocol-Version: 1",
                "device-id: dev-00001",
                "authorization: Bearer k",
                "Content-Length: 115") + Array(json.utf8))
        #expect(
            WebPush.connect(.json).makeBody(Self.batch, packsDeltas: true)
                == Self.batch.protoJSONBytes(packingDeltas: true))
    }

    @Test(arguments: [
        (DeviceProtocol.grpcWeb, ConnectCodec.json, WebPush.grpcWeb(.binary)),
        (.grpcWebText, .proto, .grpcWeb(.text)), (.connect, .proto, .connect(.proto)),
        (.connect, .json, .connect(.json)),
    ])
    func eachHTTP1PushProtocolHasItsForm(deviceProtocol: DeviceProtocol, codec: ConnectCodec, form: WebPush) {
        #expect(WebPush(deviceProtocol, connectCodec: codec) == form)
    }

    @Test func theOtherProtocolsDoNotPushOverHTTP1() {
        for deviceProtocol in [DeviceProtocol.grpcStream, .grpcUnary, .grpcSync, .rest] {
            #expect(WebPush(deviceProtocol, connectCodec: .proto) == nil)
        }
    }

    // MARK: Answers

    static let ackBytes: [UInt8] = [0x08, 0x01, 0x10, 0x28, 0x20, 0x11]  // batches 1, readings 40, last_seq 17
    static let ack = Ack(batches: 1, readings: 40, duplicateBatches: 0, lastSeq: 17)
    static let okTrailer: [UInt8] = [0x80, 0x00, 0x00, 0x00, 0x10] + Array("grpc-status: 0\r\n".utf8)

    @Test func grpcWebAnswers() {
        let binary = WebPush.grpcWeb(.binary)
        let body = [0x00, 0x00, 0x00, 0x00, 0x06] + Self.ackBytes + Self.okTrailer
        #expect(
            binary.outcome(status: 200, headers: ["Content-Type": "application/grpc-web+proto"], body: body)
                == .acked(Self.ack))
        // The answer's content type decides its encoding.
        let text = WebPush.grpcWeb(.text)
        #expect(
            text.outcome(
                status: 200, headers: ["Content-Type": "application/grpc-web-text+proto"],
                body: GRPCWebText.encode(body)) == .acked(Self.ack))
        #expect(
            text.outcome(status: 200, headers: ["Content-Type": "application/grpc-web+proto"], body: body)
                == .acked(Self.ack))
        // Trailers-Only UNAVAILABLE: retried, as grpc-unary retries it.
        let busy = binary.outcome(
            status: 200, headers: ["Content-Type": "application/grpc-web+proto", "grpc-status": "14"], body: [])
        #expect(busy == .failed(.grpcStatus(14)))
        #expect(DeviceFailure.grpcStatus(14).isRetryable)
        #expect(binary.outcome(status: 200, headers: [:], body: Self.okTrailer) == .failed(.grpcStatus(13)))
        #expect(
            binary.outcome(status: 429, headers: ["Content-Type": "text/plain"], body: Array("slow".utf8))
                == .failed(.grpcStatus(14)))
    }

    @Test func connectProtoAnswers() {
        let connect = WebPush.connect(.proto)
        #expect(
            connect.outcome(status: 200, headers: ["Content-Type": "application/proto"], body: Self.ackBytes)
                == .acked(Self.ack))
        #expect(
            connect.outcome(
                status: 200, headers: ["content-type": "Application/Proto; q=1"],
                body: Self.ackBytes) == .acked(Self.ack))
        #expect(
            connect.outcome(status: 200, headers: ["Content-Type": "application/json"], body: Self.ackBytes)
                == .failed(.malformedResponse))
        #expect(
            connect.outcome(status: 200, headers: ["Content-Type": "application/proto"], body: [0xFF])
                == .failed(.malformedResponse))
    }

    @Test func connectJSONAnswers() {
        let connect = WebPush.connect(.json)
        let ack = Array(#"{"batches":"1","readings":"40","lastSeq":"17"}"#.utf8)
        #expect(
            connect.outcome(status: 200, headers: ["Content-Type": "application/json"], body: ack)
                == .acked(Self.ack))
        #expect(
            connect.outcome(status: 200, headers: ["Content-Type": "application/proto"], body: ack)
                == .failed(.malformedResponse))
        #expect(
            connect.outcome(status: 200, headers: ["Content-Type": "application/json"], body: Array("[]".utf8))
                == .failed(.malformedResponse))
    }

    /// The code the body names decides; a body that names none (a proxy's page, an unknown code) leaves the HTTP
    /// status to decide, mapped as gRPC maps it.
    @Test(arguments: [
        (503, #"{"code":"unavailable","message":"write queue full"}"#, 14, true),
        (429, #"{"code":"resource_exhausted","message":"slow down"}"#, 8, true),
        (401, #"{"code":"unauthenticated","message":"no token"}"#, 16, false),
        (403, #"{"code":"permission_denied"}"#, 7, false),
        (400, #"{"code":"invalid_argument","message":"bad seq"}"#, 3, false),
        (409, #"{"code":"aborted"}"#, 10, true),
        (499, #"{"code":"canceled"}"#, 1, false),
        (502, "<html>bad gateway</html>", 14, true),
        (504, "", 14, true),
        (500, #"{"code":"no_such_code"}"#, 2, false),
        (500, #"{"code":"ok"}"#, 2, false),
        (500, #"{"message":"no code"}"#, 2, false),
    ])
    func connectErrorsAreTheCodeTheirBodyNames(status: Int, body: String, code: Int, isRetried: Bool) {
        let outcome = WebPush.connect(.proto).outcome(
            status: status, headers: ["Content-Type": "application/json"], body: Array(body.utf8))
        #expect(outcome == .failed(.grpcStatus(code)))
        #expect(DeviceFailure.grpcStatus(code).isRetryable == isRetried)
    }

    @Test func anAuthenticationRefusalStopsAConnectDeviceAsItStopsAGRPCOne() {
        let refused = WebPush.connect(.json).outcome(
            status: 401, headers: ["Content-Type": "application/json"],
            body: Array(#"{"code":"unauthenticated"}"#.utf8))
        guard case .failed(let failure) = refused else {
            Issue.record("accepted")
            return
        }
        #expect(failure.isAuthenticationRefusal)
    }
}
