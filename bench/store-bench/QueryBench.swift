// `store-bench --year-query N`: one sensor, one year of 1 Hz readings (31.5 M, stored as hourly chunks), then
// the series query at a 1-day step over the whole year and raw range reads, each timed N times (median).
import Foundation
import SplitMix
import Storage
import Store
import Telemetry

enum QueryBench {
    static let hourReadings = 3_600
    static let hours = 365 * 24

    static func run(repeats: Int, directory: String) -> String {
        let path = (directory as NSString).appendingPathComponent("store-bench-year-\(getpid()).db")
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let start: Int64 = 1_700_000_000_000 / 86_400_000 * 86_400_000
        do {
            let store = try TelemetryStore(path: path)
            var random = SplitMix64(seed: 7)
            var level = 2_154
            let fillStart = DispatchTime.now().uptimeNanoseconds
            for hour in 0..<hours {
                let base = start + Int64(hour) * 3_600_000
                var values: [Double] = []
                values.reserveCapacity(hourReadings)
                for _ in 0..<hourReadings {
                    level += Int(random.next() % 5) - 2
                    values.append(Double(level) / 100)
                }
                let batch = ReadingBatch(
                    seq: UInt64(hour + 1),
                    sensors: [
                        SensorReadings(
                            sensor: "temperature", exponent: -2,
                            timestamps: (0..<hourReadings).map { base + Int64($0) * 1_000 }, values: values)
                    ])
                while true {
                    do throws(StoreError) {
                        try store.submit(deviceID: "year", batch: batch) { _ in }
                        break
                    } catch {
                        usleep(500)
                    }
                }
            }
            store.close()
            let fillSeconds = Double(DispatchTime.now().uptimeNanoseconds - fillStart) / 1e9
            let reader = try TelemetryStore(path: path)
            defer { reader.close() }
            let end = start + Int64(hours) * 3_600_000 - 1
            var seriesMs: [Double] = []
            var buckets = 0
            for _ in 0..<repeats {
                let t0 = DispatchTime.now().uptimeNanoseconds
                buckets = try reader.series(
                    deviceID: "year", sensor: "temperature", fromMs: start, toMs: end + 1, stepMs: 86_400_000,
                    aggregate: .avg
                ).count
                seriesMs.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            }
            // A series query whose buckets cut every chunk (a 25-minute step): everything is decoded.
            let t1 = DispatchTime.now().uptimeNanoseconds
            let fine = try reader.series(
                deviceID: "year", sensor: "temperature", fromMs: start, toMs: start + 30 * 86_400_000, stepMs: 1_500_000,
                aggregate: .max
            ).count
            let fineMs = Double(DispatchTime.now().uptimeNanoseconds - t1) / 1e6
            // Raw range reads through the query API: one week, pages of 10,000.
            var rawRates: [Double] = []
            var rawCount = 0
            for _ in 0..<repeats {
                let t0 = DispatchTime.now().uptimeNanoseconds
                var cursor: ReadingCursor?
                rawCount = 0
                repeat {
                    let page = try reader.readings(
                        deviceID: "year", sensor: "temperature", fromMs: start + 100 * 86_400_000,
                        toMs: start + 107 * 86_400_000, limit: 10_000, after: cursor)
                    rawCount += page.readings.count
                    cursor = page.nextCursor
                } while cursor != nil
                rawRates.append(Double(rawCount) / (Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9))
            }
            let (fileBytes, _) = try reader.diskUsage()
            return "{\"year_readings\":\(hours * hourReadings),\"fill_s\":\(String(format: "%.2f", fillSeconds)),"
                + "\"file_bytes_per_reading\":\(String(format: "%.3f", Double(fileBytes) / Double(hours * hourReadings))),"
                + "\"series_1d_buckets\":\(buckets),\"series_1d_ms_median\":\(String(format: "%.2f", median(seriesMs))),"
                + "\"series_25min_30d_buckets\":\(fine),\"series_25min_30d_ms\":\(String(format: "%.1f", fineMs)),"
                + "\"raw_week_readings\":\(rawCount),\"raw_readings_per_s_median\":\(Int(median(rawRates)))}"
        } catch {
            return "{\"error\":\"\(error)\"}"
        }
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
