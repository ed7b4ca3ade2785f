import Foundation
import Storage
import Store
import Synchronization
import Telemetry
import Testing

/// A throwaway measurement, not a check: run with
/// `FLEETWIRE_STORE_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter StoreBenchmark`.
@Suite struct StoreBenchmark {
    @Test(.enabled(if: ProcessInfo.processInfo.environment["FLEETWIRE_STORE_BENCH"] != nil))
    func insertRateThroughSubmit() throws {
        let totalReadings = 500_000
        let readingsPerSeries = 10
        let sensorsPerBatch = 5
        let devices = 100
        let batchCount = totalReadings / (readingsPerSeries * sensorsPerBatch)
        // Batches built before the clock starts: device i % devices, seq counting per device, 1 s apart.
        let batches: [(String, ReadingBatch)] = (0..<batchCount).map { index in
            let device = index % devices
            let seq = UInt64(index / devices + 1)
            let startMs = 1_700_000_000_000 + Int64(seq) * 10_000
            let sensors = (0..<sensorsPerBatch).map { sensor in
                SensorReadings(
                    sensor: "sensor-\(sensor)", exponent: -2,
                    timestamps: (0..<readingsPerSeries).map { startMs + Int64($0) * 1_000 },
                    values: (0..<readingsPerSeries).map { Double(index + $0) / 100 })
            }
            return ("device-\(device)", ReadingBatch(seq: seq, sensors: sensors))
        }
        var rates: [Double] = []
        for run in 1...3 {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fleetwire-bench-\(UUID())")
            defer { try? FileManager.default.removeItem(at: directory) }
            let store = try TelemetryStore(path: directory.appendingPathComponent("bench.db").path)
            let stored = Atomic<Int>(0)
            let start = ContinuousClock.now
            for (device, batch) in batches {
                while true {
                    do throws(StoreError) {
                        try store.submit(deviceID: device, batch: batch) { result in
                            if case .success(let outcome) = result {
                                stored.add(outcome.readingsStored, ordering: .relaxed)
                            }
                        }
                        break
                    } catch {
                        // Back-pressure: the queue is full; let the writer catch up.
                        usleep(200)
                    }
                }
            }
            store.close()
            let seconds =
                Double((ContinuousClock.now - start).components.attoseconds) / 1e18
                + Double((ContinuousClock.now - start).components.seconds)
            let metrics = store.metrics()
            #expect(stored.load(ordering: .relaxed) == totalReadings)
            let rate = Double(totalReadings) / seconds
            rates.append(rate)
            print(
                "run \(run): \(totalReadings) readings in \(batchCount) batches, \(String(format: "%.3f", seconds)) s, "
                    + "\(Int(rate)) readings/s, \(metrics.commits) commits, "
                    + "latency ms sum \(Int(metrics.commitLatency.sumMs)) buckets \(metrics.commitLatency.counts)")
        }
        print("median: \(Int(rates.sorted()[1])) readings/s")
    }
}
