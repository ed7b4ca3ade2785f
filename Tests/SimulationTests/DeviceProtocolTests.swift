import Simulation
import Testing

/// `--protocol`: names, and `mixed` splitting a fleet evenly and deterministically.
@Suite struct DeviceProtocolTests {
    @Test(arguments: [
        ("grpc-stream", ProtocolMode.single(.grpcStream)), ("grpc-unary", .single(.grpcUnary)),
        ("rest", .single(.rest)), ("mixed", .mixed),
    ])
    func parsesTheFlagsSpellings(name: String, mode: ProtocolMode) {
        #expect(ProtocolMode(name: name) == mode)
        #expect(mode.name == name)
    }

    @Test func refusesUnknownNames() {
        #expect(ProtocolMode(name: "grpc") == nil)
        #expect(ProtocolMode(name: "REST") == nil)
    }

    @Test(arguments: [1, 2, 3, 10, 100, 10_000, 10_001, 10_002])
    func mixedSplitsAnyFleetEvenly(devices: Int) {
        let counts = (0..<devices).reduce(into: [DeviceProtocol: Int]()) {
            $0[ProtocolMode.mixed.protocolForDevice(at: $1), default: 0] += 1
        }
        let values = DeviceProtocol.allCases.map { counts[$0] ?? 0 }
        #expect(values.reduce(0, +) == devices)
        #expect(values.max()! - values.min()! <= 1)
    }

    @Test func mixedDependsOnlyOnTheDeviceIndex() {
        let first = (0..<9).map { ProtocolMode.mixed.protocolForDevice(at: $0) }
        let again = (0..<9).map { ProtocolMode.mixed.protocolForDevice(at: $0) }
        #expect(first == again)
        #expect(
            first == [.grpcStream, .grpcUnary, .rest, .grpcSync, .grpcStream, .grpcUnary, .rest, .grpcSync, .grpcStream])
        let settings = makeSettings()
        let fleet = FleetConfiguration(seed: 42, deviceCount: 400, protocolMode: .mixed, settings: settings)
        #expect(fleet.protocolCounts == [.grpcStream: 100, .grpcUnary: 100, .rest: 100, .grpcSync: 100])
        #expect(fleet.makeDevice(at: 5).deviceProtocol == .grpcUnary)
        #expect(fleet.makeDevice(at: 4).deviceID == "dev-00005")
        #expect(
            FleetConfiguration(seed: 1, deviceCount: 1, protocolMode: .single(.rest), settings: settings)
                .makeDevice(at: 123_455).deviceID == "dev-123456")
    }

    @Test func collectorNamesMatchTheBandwidthReport() {
        #expect(DeviceProtocol.allCases.map(\.collectorName) == ["grpc-stream", "grpc-unary", "rest-json", "grpc-sync"])
        #expect(DeviceProtocol.allCases.sorted() == [.grpcStream, .grpcUnary, .rest, .grpcSync])
    }
}
