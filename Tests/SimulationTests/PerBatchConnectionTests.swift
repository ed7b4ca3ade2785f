import Telemetry
import Testing

@testable import Simulation

/// `--connection per-batch`: a sleeping device connects for each batch, sends it (an Upload of one batch, a Push,
/// a POST), waits for the Ack and disconnects.
@Suite struct PerBatchConnectionTests {
    static func harness(_ deviceProtocol: DeviceProtocol) -> DeviceHarness {
        var settings = makeSettings(durationMs: 30_000)
        settings.connectionMode = .perBatch
        return DeviceHarness(makeDevice(protocol: deviceProtocol, settings: settings))
    }

    @Test(arguments: DeviceProtocol.allCases)
    func connectsForEachBatchAndClosesAfterItsAck(deviceProtocol: DeviceProtocol) {
        var harness = Self.harness(deviceProtocol)
        // No connection at start: the radio stays off until there is a batch.
        #expect(!harness.send(.start).contains(.connect))
        for seq in 1...3 {
            let wake = harness.advance(to: harness.closeTime(ofBatch: Int64(seq)))
            #expect(wake.contains(.connect), "batch \(seq) connects")
            let sending = harness.send(.connected)
            #expect(harness.request?.seqs == UInt64(seq)...UInt64(seq), "one batch per call")
            if deviceProtocol == .grpcStream {
                #expect(sending.filter { if case .sendOnStream = $0 { true } else { false } }.count == 1)
                #expect(sending.contains(.halfCloseStream(covering: UInt64(seq)...UInt64(seq))))
            }
            let afterAck = harness.ack()
            #expect(afterAck.contains(.disconnect), "the Ack closes the connection")
            #expect(!harness.device.isConnected)
        }
        harness.advance(to: harness.closeTime(ofBatch: 4) + seconds(1))
        #expect(harness.isFinished)
        #expect(harness.device.statistics.connections == 3)
        #expect(harness.device.statistics.batchesAcked == 3)
        #expect(harness.sentSeqs == [1, 2, 3])
    }

    @Test func aFailedCallIsRetriedOnTheSameConnection() {
        var harness = Self.harness(.grpcUnary)
        harness.send(.start)
        harness.advance(to: harness.closeTime(ofBatch: 1))
        harness.send(.connected)
        let failed = harness.send(.callFailed(.grpcStatus(14)))
        #expect(!failed.contains(.disconnect))
        #expect(harness.device.isConnected)
    }

    @Test func keepIsTheDefaultAndConnectsAtStart() {
        var harness = DeviceHarness(makeDevice(protocol: .grpcStream, settings: makeSettings(durationMs: 30_000)))
        #expect(harness.send(.start).contains(.connect))
        #expect(makeSettings().batchesPerStream == 6)
    }
}
