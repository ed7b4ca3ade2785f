import Testing
import GRPC
import Telemetry

/// The client's outcome rules, including synthesized statuses.
@Suite struct TelemetryClientResponseTests {
    static func code(_ result: Result<Ack, GRPCStatus>) -> GRPCStatus.Code {
        switch result {
        case .success: .ok
        case .failure(let status): status.code
        }
    }

    @Test func okWithAck() throws {
        var response = TelemetryClientResponse()
        response.receiveHeaders(httpStatus: 200, .responseHeaders)
        let ack = Ack(batches: 1, readings: 40, duplicateBatches: 0, lastSeq: 7)
        GRPCMessageFramer.frame(ack.protobufBytes()).withUnsafeBytes { response.receiveData($0) }
        response.receiveHeaders(httpStatus: nil, GRPCStatus.ok.trailers)
        #expect(try response.outcome(errorCode: 0).get() == ack)
    }

    @Test func trailersOnlyError() {
        var response = TelemetryClientResponse()
        response.receiveHeaders(httpStatus: 200, GRPCStatus(.unavailable, "store overloaded, retry").trailersOnlyMetadata)
        #expect(response.outcome(errorCode: 0) == .failure(GRPCStatus(.unavailable, "store overloaded, retry")))
    }

    @Test(arguments: [
        (UInt32(7), GRPCStatus.Code.unavailable), (8, .cancelled), (11, .resourceExhausted), (2, .internal),
        (0, .internal),
    ])
    func resetsMapToStatuses(code: UInt32, expected: GRPCStatus.Code) {
        #expect(Self.code(TelemetryClientResponse().outcome(errorCode: code)) == expected)
    }

    @Test func httpErrorWithoutGRPCStatus() {
        var response = TelemetryClientResponse()
        response.receiveHeaders(httpStatus: 503, GRPCMetadata())
        #expect(Self.code(response.outcome(errorCode: 0)) == .unavailable)
    }

    @Test func okWithoutAckIsAnError() {
        var response = TelemetryClientResponse()
        response.receiveHeaders(httpStatus: 200, GRPCStatus.ok.trailersOnlyMetadata)
        #expect(Self.code(response.outcome(errorCode: 0)) == .internal)
    }

    @Test func interimResponsesAreIgnored() {
        var response = TelemetryClientResponse()
        response.receiveHeaders(httpStatus: 103, ["grpc-status": "0"])
        response.receiveHeaders(httpStatus: 503, GRPCMetadata())
        #expect(response.outcome(errorCode: 0) == .failure(GRPCStatus.fromHTTPStatus(503)))
    }

    @Test func statusMessageIsPercentDecoded() {
        var response = TelemetryClientResponse()
        response.receiveHeaders(httpStatus: 200, ["content-type": "application/grpc", "grpc-status": "3",
                                                  "grpc-message": "bad%20batch 100%25"])
        #expect(response.outcome(errorCode: 0) == .failure(GRPCStatus(.invalidArgument, "bad batch 100%")))
    }
}
