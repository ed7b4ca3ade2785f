import Accounting
import GRPC
import Testing
import Telemetry
@testable import Collector

/// Health and reflection through the project's own HTTP/2 client against a real collector: no device-id needed,
/// the answers on the wire, and every byte of the connection booked under `query`'s overhead row.
@Suite(.serialized) struct StandardServicesEndToEndTests {
    /// `HealthCheckRequest { service = "telemetry.v1.Telemetry" }`, framed.
    static let checkTelemetry = GRPCMessageFramer.frame([0x0a, 0x16] + Array("telemetry.v1.Telemetry".utf8))

    @Test func healthAndReflectionAnswerWithoutADeviceAndAreBookedAsQueryOverhead() throws {
        let collector = try TestCollector()
        let client = try GRPCTestClient(port: collector.port)
        let check = try client.open(HealthCallHandler.Method.check.rawValue, deviceID: nil)
        try client.send(check, Self.checkTelemetry)
        #expect(Self.status(try client.finish(check)) == .ok)
        #expect(client.httpStatus(check) == 200)
        #expect(client.body(check) == GRPCMessageFramer.frame(HealthServingStatus.serving.responseBytes))

        let unknown = try client.open(HealthCallHandler.Method.check.rawValue, deviceID: nil)
        try client.send(unknown, GRPCMessageFramer.frame([0x0a, 0x01, 0x78]))  // service "x"
        #expect(Self.status(try client.finish(unknown)).code == .notFound)

        let reflection = try client.open(ServerReflectionCallHandler.methodPaths[0], deviceID: nil)
        try client.send(reflection, GRPCMessageFramer.frame([0x3a, 0x00]))  // list_services = ""
        // This client reads every answer as an Ack, which a reflection response is not: the server's status is
        // checked below, in the ledger (one error: the NOT_FOUND).
        _ = try client.finish(reflection)
        let names = ["grpc.health.v1.Health", "telemetry.v1.Telemetry"]
        let body = client.body(reflection)
        for name in names { #expect(body.contains(subsequence: Array(name.utf8)), "\(name) listed") }

        try client.close()
        collector.waitForIdle()
        let row = collector.server.ledger.snapshot()[BandwidthKey.overhead(.query)] ?? BandwidthCounters()
        #expect(row.bytesIn.total == Int64(client.raw.bytesSent))
        #expect(row.bytesOut.total == Int64(client.raw.bytesReceived))
        #expect(row.calls == 3 && row.errors == 1 && row.connections == 1)
        #expect(row.bytesIn.framing >= 3 * 5 && row.bytesOut.framing >= 2 * 5, "gRPC prefixes are framing")
    }

    /// The status of a call whose response the client read as an Ack (the outcome's code is what matters).
    static func status(_ result: Result<Ack, GRPCStatus>) -> GRPCStatus {
        switch result {
        case .success: .ok
        case .failure(let status): status
        }
    }
}

extension Array where Element == UInt8 {
    /// True when `needle` occurs in the array as consecutive bytes.
    fileprivate func contains(subsequence needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= count else { return needle.isEmpty }
        return (0...(count - needle.count)).contains { Array(self[$0..<($0 + needle.count)]) == needle }
    }
}
