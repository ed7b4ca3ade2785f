import GRPC
import HTTP2
import Telemetry
import Testing

@testable import Collector
@testable import CollectorService
@testable import FleetDriver

/// The simulator's HTTP/2 edge of the gRPC layer: the request header block it sends (the wire contract, field by
/// field, in HPACK order) and how it reads response blocks; and that the collector's edge reads back what it sends.
@Suite struct HTTP2HeaderFieldGRPCClientTests {
    @Test func requestBlockFieldByField() {
        let head = TelemetryRequestHead(
            method: .push, deviceID: "dev-1", timeoutNanoseconds: 2_000_000,
            authorization: "Bearer k")
        #expect(
            [HTTP2HeaderField](head.makeRequestHead(authority: "127.0.0.1:8080")) == [
                HTTP2HeaderField(":method", "POST"), HTTP2HeaderField(":scheme", "http"),
                HTTP2HeaderField(":path", "/telemetry.v1.Telemetry/Push"),
                HTTP2HeaderField(":authority", "127.0.0.1:8080"),
                HTTP2HeaderField("grpc-timeout", "2000000n"), HTTP2HeaderField("content-type", "application/grpc"),
                HTTP2HeaderField("te", "trailers"), HTTP2HeaderField("device-id", "dev-1"),
                HTTP2HeaderField("authorization", "Bearer k"),
            ])
    }

    @Test(arguments: TelemetryMethod.allCases)
    func theCollectorReadsBackWhatTheSimulatorSends(method: TelemetryMethod) throws {
        let sent = TelemetryRequestHead(
            method: method, deviceID: "d9", timeoutNanoseconds: 3_000_000_000,
            authorization: "Bearer z")
        let fields = [HTTP2HeaderField](sent.makeRequestHead(authority: "h:1"))
        #expect(GRPCRequestHead(http2Fields: fields) == sent.makeRequestHead(authority: "h:1"))
        let handler = try TelemetryService.makeRouter().route(GRPCRequestHead(http2Fields: fields))
        #expect(handler.head == sent)
    }

    @Test func responseBlocksGiveTheOutcome() {
        let ack = Ack(batches: 1, readings: 2, duplicateBatches: 0, lastSeq: 3)
        var response = TelemetryClientResponse()
        response.receiveHeaders([HTTP2HeaderField].response(status: 200, .responseHeaders))
        GRPCMessageFramer.frame(ack.protobufBytes()).withUnsafeBytes { response.receiveData($0) }
        response.receiveHeaders([HTTP2HeaderField].trailers(GRPCStatus.ok.trailers))
        #expect(response.outcome(errorCode: 0) == .success(ack))

        var refused = TelemetryClientResponse()
        refused.receiveHeaders([HTTP2HeaderField(":status", "415"), HTTP2HeaderField("content-type", "text/plain")])
        #expect(refused.outcome(errorCode: 0) == .failure(GRPCStatus.fromHTTPStatus(415)))
    }
}
