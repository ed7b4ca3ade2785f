import Foundation
import Telemetry
import Testing

@testable import Simulation

/// `--web-http 1.1|2` (device-sim/Simulation/WebHTTPVersion.swift): its spellings, which devices it moves to HTTP/2
/// (gRPC-Web and Connect only), and how the report names it.
@Suite struct WebHTTPVersionTests {
    @Test(arguments: [("1.1", WebHTTPVersion.http1), ("2", .http2)])
    func theFlagsSpellings(name: String, version: WebHTTPVersion) {
        #expect(WebHTTPVersion(name: name) == version && version.name == name)
        #expect(version.description == "HTTP/" + name)
    }

    @Test(arguments: ["", "1", "2.0", "h2", "h2c", "HTTP/2", "http/1.1"])
    func otherSpellingsAreRefused(name: String) {
        #expect(WebHTTPVersion(name: name) == nil)
    }

    @Test func onlyGRPCWebAndConnectFollowTheFlag() {
        #expect(DeviceProtocol.allCases.filter(\.isWebPush) == [.grpcWeb, .grpcWebText, .connect])
        #expect(
            DeviceProtocol.allCases.filter { $0.usesHTTP2(webHTTP: .http1) } == [.grpcStream, .grpcUnary, .grpcSync])
        #expect(
            DeviceProtocol.allCases.filter { $0.usesHTTP2(webHTTP: .http2) } == [
                .grpcStream, .grpcUnary, .grpcSync, .grpcWeb, .grpcWebText, .connect,
            ])
    }

    static func description(_ mode: ProtocolMode, _ webHTTP: WebHTTPVersion) -> RunDescription {
        let (configuration, _) = FleetReportTests.makeRun(devices: 4, mode: mode)
        var description = RunDescription(configuration: configuration, elapsedNs: 1_000_000_000, simulatedMs: 60_000)
        description.webHTTP = webHTTP
        return description
    }

    @Test func theHeaderNamesHTTP2OnlyWhenWebDevicesUseIt() {
        #expect(
            Self.description(.list([.grpcUnary, .grpcWeb]), .http2).protocolText
                == "grpc-unary,grpc-web (web over HTTP/2)")
        #expect(
            Self.description(.list([.grpcWeb, .connect]), .http2).protocolText
                == "grpc-web,connect (connect proto, web over HTTP/2)")
        #expect(Self.description(.list([.grpcUnary, .grpcWeb]), .http1).protocolText == "grpc-unary,grpc-web")
        #expect(Self.description(.single(.grpcUnary), .http2).protocolText == "grpc-unary")
    }

    @Test func jsonCarriesTheVersionWhenWebDevicesRan() throws {
        func webHTTP(_ description: RunDescription) throws -> JSONValue? {
            let report = FleetReport.make(run: description, devices: [], latencies: ProtocolLatencies(), collector: nil)
            return try JSONValue.parse(report.renderJSON())["run"]?["web_http"]
        }
        #expect(try webHTTP(Self.description(.single(.connect), .http2))?.stringValue == "2")
        #expect(try webHTTP(Self.description(.single(.grpcWebText), .http1))?.stringValue == "1.1")
        #expect(try webHTTP(Self.description(.mixed, .http2))?.isNull == true)
    }
}
