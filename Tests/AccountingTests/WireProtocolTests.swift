import Testing
import Accounting

/// The protocol names are persisted and part of the REST API: they never change.
struct WireProtocolTests {
    @Test func namesAreTheContractsSpelling() {
        #expect(WireProtocol.allCases.map(\.rawValue)
                == ["grpc-stream", "grpc-unary", "grpc-sync", "grpc-web", "grpc-web-text", "connect", "rest-json",
                    "rest-json-h2", "query", "h2c", "tls", "watch"])
        #expect(WireProtocol.overheadDevice == "")
    }

    @Test func namesJSONKeysEachNameByItsCase() {
        #expect(WireProtocol.namesJSON == #"""
            {"grpcStream":"grpc-stream","grpcUnary":"grpc-unary","grpcSync":"grpc-sync","grpcWeb":"grpc-web",\#
            "grpcWebText":"grpc-web-text","connect":"connect","restJSON":"rest-json",\#
            "restJSONH2":"rest-json-h2","query":"query","h2c":"h2c","tls":"tls","watch":"watch"}
            """#)
    }
}
