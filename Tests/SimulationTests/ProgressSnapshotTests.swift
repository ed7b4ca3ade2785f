import Testing

@testable import Simulation

/// The live progress line.
@Suite struct ProgressSnapshotTests {
    @Test func theLineShowsConnectionsReadingsBytesErrorsAndRate() {
        var snapshot = ProgressSnapshot(atNs: 12_000_000_000)
        snapshot.simulatedElapsedMs = 720_000
        snapshot.devices = 10_000
        snapshot.connected = 9_998
        snapshot.readingsSent = 1_234_560
        snapshot.readingsAcked = 1_230_000
        snapshot.bytesSent = 12_345_678
        snapshot.bytesReceived = 1_200_000
        snapshot.errors = 3
        var previous = ProgressSnapshot(atNs: 11_000_000_000)
        previous.readingsAcked = 1_189_000
        #expect(
            snapshot.line(startNs: 0, previous: previous) == """
                [  12.0 s] sim 00:12:00 | 9,998/10,000 connected | readings sent 1,234,560 acked 1,230,000 (41,000/s) \
                | wire 12.3 MB out 1.20 MB in | errors 3 | dropped 0
                """)
        // Without a previous snapshot the rate is the average since the start.
        #expect(snapshot.line(startNs: 2_000_000_000).contains("(123,000/s)"))
    }

    @Test func snapshotsOfSeveralLoopsAddUp() {
        let (_, run) = FleetReportTests.makeRun()
        let fleet = run.fleet
        var whole = fleet.progress(at: 5)
        var half = DeviceFleet(devices: Array(fleet.devices.prefix(4))).progress(at: 5)
        half.merge(DeviceFleet(devices: Array(fleet.devices.dropFirst(4))).progress(at: 5))
        #expect(half == whole)
        whole.simulatedElapsedMs = nil
        #expect(whole.devices == 9 && whole.finished == 9 && whole.connected == 0)
        #expect(whole.readingsAcked == fleet.summaries.reduce(0) { $0 + $1.statistics.readingsAcked })
    }
}
