// store-bench: the store's own writer inserting pre-built batches, no network (row 1 of `make bench`).
// usage: store-bench [--devices N] [--readings N] [--sensors N] [--per-series N] [--dir PATH]
//                    [--max-transaction-readings N] [--max-transaction-ms N] (default: the store's own, 50,000 / 10)
//                    [--order round-robin|shuffled] (default round-robin)
// Order: each round has every device's next batch once. round-robin keeps devices in id order, so neighbours in a
// transaction share the pages of the devices and series tables; shuffled draws a new permutation every round, as
// batches from a real fleet arrive.
// Prints one JSON object per line: {"devices":..,"readings":..,"seconds":..,"readings_per_s":..,"commits":..,
// "bytes_per_reading":.. (data pages after ingest, one chunk per series per batch), "compaction_s":..,
// "compacted_bytes_per_reading":.. (data pages after compaction), "file_bytes_per_reading":.. (the file, free
// pages included, after compaction)}. Compaction is timed apart from ingest.
// store-bench --codec N: only the chunk codec (issue 13), on chunks of N readings of a 1 Hz sensor with two
// decimals drifting by a few hundredths: {"codec_readings_per_chunk":N,"bytes_per_reading":..,
// "encode_readings_per_s":..,"decode_readings_per_s":..}
import Foundation
import SplitMix
import Storage
import Store
import Synchronization
import Telemetry

var options: [String: String] = [:]
var arguments = Array(CommandLine.arguments.dropFirst())
while !arguments.isEmpty {
    let name = arguments.removeFirst()
    guard name.hasPrefix("--"), !arguments.isEmpty else {
        FileHandle.standardError.write(Data("store-bench: bad argument \(name)\n".utf8))
        exit(2)
    }
    options[String(name.dropFirst(2))] = arguments.removeFirst()
}
if let text = options["year-query"] {
    guard let repeats = Int(text), repeats > 0 else {
        FileHandle.standardError.write(Data("store-bench: --year-query expects a number of repeats\n".utf8))
        exit(2)
    }
    print(QueryBench.run(repeats: repeats, directory: options["dir"] ?? NSTemporaryDirectory()))
    exit(0)
}
if let text = options["codec"] {
    guard let perChunk = Int(text), perChunk > 0 else {
        FileHandle.standardError.write(Data("store-bench: --codec expects a positive number of readings\n".utf8))
        exit(2)
    }
    print(CodecBench.run(readingsPerChunk: perChunk))
    exit(0)
}
let devices = Int(options["devices"] ?? "100") ?? 100
let totalReadings = Int(options["readings"] ?? "1000000") ?? 1_000_000
let sensorsPerBatch = Int(options["sensors"] ?? "4") ?? 4
let readingsPerSeries = Int(options["per-series"] ?? "10") ?? 10
let directory = options["dir"] ?? NSTemporaryDirectory()
let sensorNames = ["temperature", "humidity", "pressure", "battery", "co2", "voltage", "current", "rssi"]

let perBatch = readingsPerSeries * sensorsPerBatch
let batchCount = (totalReadings + perBatch - 1) / perBatch
let isShuffled: Bool
switch options["order"] ?? "round-robin" {
case "round-robin": isShuffled = false
case "shuffled": isShuffled = true
default:
    FileHandle.standardError.write(Data("store-bench: --order must be round-robin or shuffled\n".utf8))
    exit(2)
}
// Seeded: the same permutations every run.
var random = SplitMix64(seed: 0x5EED)
var roundOrder = Array(0..<devices)
// Built before the clock starts: each round every device once, seq counting per device, 1 s between readings.
let batches: [(String, ReadingBatch)] = (0..<batchCount).map { index in
    if isShuffled && index % devices == 0 {
        for i in stride(from: devices - 1, to: 0, by: -1) { roundOrder.swapAt(i, Int(random.next() % UInt64(i + 1))) }
    }
    let device = roundOrder[index % devices]
    let seq = UInt64(index / devices + 1)
    let startMs = 1_700_000_000_000 + Int64(seq) * Int64(readingsPerSeries) * 1_000
    let sensors = (0..<sensorsPerBatch).map { sensor in
        SensorReadings(
            sensor: sensor < sensorNames.count ? sensorNames[sensor] : "sensor-\(sensor)", exponent: -2,
            timestamps: (0..<readingsPerSeries).map { startMs + Int64($0) * 1_000 },
            values: (0..<readingsPerSeries).map { Double((index * 7 + $0 * 13) % 5_000) / 100 })
    }
    return (String(format: "dev-%05d", device), ReadingBatch(seq: seq, sensors: sensors))
}
let path = (directory as NSString).appendingPathComponent("store-bench-\(getpid())-\(devices).db")
defer {
    for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
}
let store: TelemetryStore
var configuration = StoreConfiguration()
if let limit = options["max-transaction-readings"].flatMap({ Int($0) }) { configuration.maxTransactionReadings = limit }
if let window = options["max-transaction-ms"].flatMap({ Int($0) }) { configuration.maxTransactionMs = window }
do { store = try TelemetryStore(path: path, configuration: configuration) } catch {
    FileHandle.standardError.write(Data("store-bench: cannot open \(path): \(error)\n".utf8))
    exit(1)
}
let stored = Atomic<Int>(0)
let failed = Atomic<Int>(0)
let start = ContinuousClock.now
for (device, batch) in batches {
    while true {
        do throws(StoreError) {
            try store.submit(deviceID: device, batch: batch) { result in
                switch result {
                case .success(let outcome): stored.add(outcome.readingsStored, ordering: .relaxed)
                case .failure: failed.add(1, ordering: .relaxed)
                }
            }
            break
        } catch {
            usleep(200)  // back-pressure: the queue is full; let the writer catch up
        }
    }
}
store.close()
let elapsed = ContinuousClock.now - start
let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
let metrics = store.metrics()
let total = stored.load(ordering: .relaxed)
// Disk: reopened (the WAL folded back by close), then compacted through the store's own maintenance.
var disk = ""
do {
    let reopened = try TelemetryStore(path: path, configuration: configuration)
    let written = try reopened.diskUsage()
    let compactionStart = ContinuousClock.now
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        try? await reopened.compactAndSweep()
        done.signal()
    }
    done.wait()
    let compactionTime = ContinuousClock.now - compactionStart
    reopened.close()
    let settled = try TelemetryStore(path: path, configuration: configuration)
    let compacted = try settled.diskUsage()
    settled.close()
    func perReading(_ bytes: Int64) -> String { String(format: "%.2f", Double(bytes) / Double(max(1, total))) }
    let compactionSeconds =
        Double(compactionTime.components.seconds) + Double(compactionTime.components.attoseconds) / 1e18
    disk =
        ",\"bytes_per_reading\":\(perReading(written.liveBytes)),\"compaction_s\":\(String(format: "%.3f", compactionSeconds)),"
        + "\"compacted_bytes_per_reading\":\(perReading(compacted.liveBytes)),"
        + "\"file_bytes_per_reading\":\(perReading(compacted.fileBytes))"
} catch {
    FileHandle.standardError.write(Data("store-bench: cannot measure the disk: \(error)\n".utf8))
}
print(
    "{\"devices\":\(devices),\"order\":\"\(isShuffled ? "shuffled" : "round-robin")\",\"readings\":\(total),\"batches\":\(batchCount),\"failed_batches\":\(failed.load(ordering: .relaxed)),"
        + "\"seconds\":\(String(format: "%.3f", seconds)),\"readings_per_s\":\(Int(Double(total) / seconds)),"
        + "\"commits\":\(metrics.commits)\(disk)}")
exit(total == batchCount * perBatch && failed.load(ordering: .relaxed) == 0 ? 0 : 1)
