import GRPC
import HTTP2
import Testing

@testable import Collector
@testable import CollectorService

/// The collector's HTTP/2 edge of the gRPC layer: a request header block becomes a `GRPCRequestHead` with the
/// pseudo-headers apart and the metadata in order; response metadata becomes header fields after `:status`.
@Suite struct HTTP2HeaderFieldGRPCServerTests {
    static let request = [
        HTTP2HeaderField(":method", "POST"), HTTP2HeaderField(":scheme", "http"),
        HTTP2HeaderField(":path", "/telemetry.v1.Telemetry/Upload"), HTTP2HeaderField(":authority", "h:1"),
        HTTP2HeaderField("grpc-timeout", "5S"), HTTP2HeaderField("content-type", "application/grpc"),
        HTTP2HeaderField("te", "trailers"), HTTP2HeaderField("device-id", "d1"),
        HTTP2HeaderField("x-tag", "a"), HTTP2HeaderField("x-tag", "b"),
    ]

    @Test func pseudoHeadersAreKeptApartAndMetadataInOrder() {
        let head = GRPCRequestHead(http2Fields: Self.request)
        #expect(head.method == "POST")
        #expect(head.scheme == "http")
        #expect(head.path == "/telemetry.v1.Telemetry/Upload")
        #expect(head.authority == "h:1")
        #expect(head.metadata.map(\.name) == ["grpc-timeout", "content-type", "te", "device-id", "x-tag", "x-tag"])
        #expect(head.metadata.values(for: "x-tag") == ["a", "b"])
        #expect(head.contentType == "application/grpc")
    }

    @Test func missingPseudoHeadersAreNilAndTheFirstOfARepeatWins() {
        let head = GRPCRequestHead(http2Fields: [
            HTTP2HeaderField(":path", "/a"), HTTP2HeaderField(":path", "/b"), HTTP2HeaderField(":protocol", "x"),
            HTTP2HeaderField("device-id", "d"),
        ])
        #expect(head.method == nil)
        #expect(head.authority == nil)
        #expect(head.path == "/a")
        #expect(head.metadata == ["device-id": "d"], "an unknown pseudo-header is not metadata")
    }

    @Test func aRequestBlockRoutesLikeTheHeadItCarries() throws {
        let handler = try TelemetryService.makeRouter().route(GRPCRequestHead(http2Fields: Self.request))
        #expect(
            handler.head
                == TelemetryRequestHead(
                    method: .upload, deviceID: "d1",
                    timeoutNanoseconds: 5_000_000_000))
    }

    @Test func responseAndTrailerBlocks() {
        #expect(
            [HTTP2HeaderField].response(status: 200, .responseHeaders)
                == [HTTP2HeaderField(":status", "200"), HTTP2HeaderField("content-type", "application/grpc")])
        #expect(
            [HTTP2HeaderField].response(status: 200, GRPCStatus(.unavailable, "full").trailersOnlyMetadata) == [
                HTTP2HeaderField(":status", "200"), HTTP2HeaderField("content-type", "application/grpc"),
                HTTP2HeaderField("grpc-status", "14"), HTTP2HeaderField("grpc-message", "full"),
            ])
        #expect([HTTP2HeaderField].trailers(GRPCStatus.ok.trailers) == [HTTP2HeaderField("grpc-status", "0")])
    }
}
