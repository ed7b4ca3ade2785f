import GRPC
import Testing

/// Metadata keeps order and repeats, looks names up ignoring case, and carries statuses the way the gRPC
/// protocol spells them.
@Suite struct GRPCMetadataTests {
    @Test func lookupIgnoresCaseAndNamesAreStoredLowerCase() {
        var metadata = GRPCMetadata()
        metadata.append("Device-ID", "d1")
        metadata.append("x-TRACE", "abc")
        #expect(metadata["device-id"] == "d1")
        #expect(metadata["DEVICE-ID"] == "d1")
        #expect(metadata["x-trace"] == "abc")
        #expect(metadata.fields.map(\.name) == ["device-id", "x-trace"])
        #expect(metadata["missing"] == nil)
    }

    @Test func orderAndRepeatedNamesArePreserved() {
        let metadata: GRPCMetadata = ["b": "1", "a": "2", "B": "3", "c": "4"]
        #expect(metadata.count == 4)
        #expect(metadata.map(\.name) == ["b", "a", "b", "c"])
        #expect(metadata.map(\.value) == ["1", "2", "3", "4"])
        #expect(metadata["b"] == "1", "the first value wins")
        #expect(metadata.values(for: "B") == ["1", "3"])
    }

    @Test func appendRemoveAndConcatenate() {
        var metadata: GRPCMetadata = ["a": "1", "b": "2", "a": "3"]
        metadata.removeAll(named: "A")
        #expect(metadata == ["b": "2"])
        let joined = metadata + ["c": "4"]
        #expect(joined.map(\.name) == ["b", "c"])
        #expect(GRPCMetadata().isEmpty)
        #expect(joined != ["c": "4", "b": "2"], "order is part of equality")
    }

    @Test func statusTrailers() {
        #expect(GRPCStatus.ok.trailers == ["grpc-status": "0"])
        #expect(
            GRPCStatus(.invalidArgument, "bad 100%").trailers
                == ["grpc-status": "3", "grpc-message": "bad 100%25"])
    }

    @Test func trailersOnlyCarriesContentTypeStatusAndForUnimplementedTheEncodings() {
        #expect(
            GRPCStatus(.unimplemented, "no 100%").trailersOnlyMetadata == [
                "content-type": "application/grpc", "grpc-status": "12", "grpc-message": "no 100%25",
                "grpc-accept-encoding": "identity",
            ])
        #expect(
            GRPCStatus(.unavailable).trailersOnlyMetadata
                == ["content-type": "application/grpc", "grpc-status": "14"])
    }

    @Test func telemetryRequestHeadInTheContractsOrder() {
        let head = TelemetryRequestHead(
            method: .upload, deviceID: "d1", timeoutNanoseconds: 1_000_000_000,
            authorization: "Bearer x"
        ).makeRequestHead(authority: "h:1")
        #expect(head.method == "POST")
        #expect(head.scheme == "http")
        #expect(head.path == "/telemetry.v1.Telemetry/Upload")
        #expect(head.authority == "h:1")
        #expect(head.contentType == "application/grpc")
        #expect(
            head.metadata == [
                "grpc-timeout": "1000000u", "content-type": "application/grpc", "te": "trailers", "device-id": "d1",
                "authorization": "Bearer x",
            ])
        let bare = TelemetryRequestHead(method: .push, deviceID: "d2").makeRequestHead(authority: "h:1")
        #expect(bare.metadata.map(\.name) == ["content-type", "te", "device-id"])
    }
}
