import Telemetry
import Testing

@testable import Simulation

/// An event loop's share of the fleet: slots, and latencies recorded per protocol.
@Suite struct DeviceFleetTests {
    @Test func slotsMapToFleetIndices() {
        let configuration = FleetConfiguration(seed: 1, deviceCount: 10, protocolMode: .mixed, settings: makeSettings())
        // Loop 1 of 2 takes every other device.
        let fleet = DeviceFleet(configuration: configuration, indices: stride(from: 1, to: 10, by: 2))
        #expect(fleet.devices.map(\.deviceID) == ["dev-00002", "dev-00004", "dev-00006", "dev-00008", "dev-00010"])
        #expect(fleet.devices.map(\.deviceProtocol) == [.grpcUnary, .grpcSync, .grpcUnary, .grpcSync, .grpcUnary])
        // The same device made by another loop reads the same.
        #expect(fleet.devices[0].originMs == configuration.makeDevice(at: 1).originMs)
    }

    @Test func acksOfCallsInFlightAreRecordedForTheDevicesProtocol() {
        let settings = makeSettings(clock: .maxRate(start: testStartMs))
        var fleet = DeviceFleet(devices: [
            makeDevice("a", protocol: .rest, settings: settings),
            makeDevice("b", protocol: .grpcUnary, settings: settings),
        ])
        _ = fleet.handle(.start, slot: 0, at: 0)
        // An Ack with no call in flight (stale) is not a latency.
        _ = fleet.handle(.acked(Ack(), covering: 1...1, latencyNs: 99), slot: 0, at: 0)
        #expect(fleet.latencies[.rest].count == 0)
        let actions = fleet.handle(.connected, slot: 0, at: 0)
        #expect(actions.compactMap(\.requestSeqs) == [1...1])
        _ = fleet.handle(.acked(Ack(batches: 1), covering: 1...1, latencyNs: 1_500_000), slot: 0, at: 2_000_000)
        #expect(fleet.latencies[.rest].count == 1 && fleet.latencies[.rest].maxNs == 1_500_000)
        #expect(fleet.latencies[.grpcUnary].count == 0)
        fleet.recordWireBytes(slot: 1, sent: 10, received: 20)
        #expect(fleet.summaries[1].statistics.bytesSent == 10 && fleet.summaries[1].statistics.bytesReceived == 20)
        #expect(!fleet.isFinished)
    }
}
