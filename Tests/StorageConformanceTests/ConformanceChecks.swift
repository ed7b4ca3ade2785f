// Checks shared by the conformance tests: reading everything back through the protocol's queries and comparing it
// with the model, and the error a bad argument must raise.

import Foundation
import Storage
import Synchronization
import Telemetry
import Testing

/// Every page of a device's readings, following the cursors through their string tokens until there is none.
func allPages(
    _ storage: any TelemetryStorage, deviceID: String, sensor: String? = nil, fromMs: Int64? = nil,
    toMs: Int64? = nil, limit: Int = 5_000, order: ReadingOrder = .ascending,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> [Reading] {
    var collected: [Reading] = []
    var cursor: ReadingCursor?
    var pages = 0
    repeat {
        let page = try storage.readings(
            deviceID: deviceID, sensor: sensor, fromMs: fromMs, toMs: toMs, limit: limit, order: order, after: cursor)
        #expect(page.readings.count <= limit, sourceLocation: sourceLocation)
        #expect(page.nextCursor == nil || page.readings.count == limit, sourceLocation: sourceLocation)
        collected += page.readings
        cursor = page.nextCursor.flatMap { ReadingCursor(token: $0.token) }
        #expect(cursor == page.nextCursor, "the cursor survives its token", sourceLocation: sourceLocation)
        pages += 1
    } while cursor != nil && pages < 100_000
    return collected
}

/// Expects `storage` to hold exactly what `model` says for `devices` (default: every device of the model, plus
/// one never seen): every reading with its value, each device's summary, and the latest reading per sensor.
func expectStorage(
    _ storage: any TelemetryStorage, equals model: StorageModel, devices: [String]? = nil, _ context: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    for device in devices ?? model.deviceNames + ["never-seen"] {
        let read = try allPages(storage, deviceID: device, sourceLocation: sourceLocation)
        expectReadings(
            read, model.sortedReadings(deviceID: device), "\(context) \(device)", sourceLocation: sourceLocation)
        let summary = try storage.device(device)
        if let known = model.summary(device) {
            #expect(summary?.name == device, "\(context) summary of \(device)", sourceLocation: sourceLocation)
            #expect(
                summary?.readings == known.readings, "\(context) readings of \(device)", sourceLocation: sourceLocation)
            #expect(
                summary?.batches == known.batches, "\(context) batches of \(device)", sourceLocation: sourceLocation)
            #expect(
                summary?.lastSeq == known.lastSeq, "\(context) lastSeq of \(device)", sourceLocation: sourceLocation)
            #expect(
                summary?.sensors == known.sensors, "\(context) sensors of \(device)", sourceLocation: sourceLocation)
            if let summary {
                #expect(summary.firstSeenMs <= summary.lastSeenMs, sourceLocation: sourceLocation)
            }
        } else {
            #expect(summary == nil, "\(context) \(device) was never stored", sourceLocation: sourceLocation)
        }
        #expect(
            try storage.latest(deviceID: device) == model.latest(device), "\(context) latest of \(device)",
            sourceLocation: sourceLocation)
    }
}

/// Expects `read` to be `expected` bit for bit (a stored value is the value first written; -0.0 is not 0.0), and
/// says where they first differ rather than printing both lists.
func expectReadings(
    _ read: [Reading], _ expected: [Reading], _ context: String, sourceLocation: SourceLocation = #_sourceLocation
) {
    let isSame =
        read.count == expected.count
        && zip(read, expected).allSatisfy { $0 == $1 && $0.value.bitPattern == $1.value.bitPattern }
    guard !isSame else { return }
    let index =
        zip(read, expected).enumerated().first { $1.0 != $1.1 || $1.0.value.bitPattern != $1.1.value.bitPattern }?
        .offset ?? min(read.count, expected.count)
    func row(_ rows: [Reading]) -> String {
        index < rows.count ? "\(rows[index].sensor)@\(rows[index].ts)=\(rows[index].value)" : "nothing"
    }
    let message =
        "\(context): \(read.count) readings, expected \(expected.count); first difference at row \(index): got "
        + "\(row(read)), expected \(row(expected))"
    Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
}

/// Expects `body` to throw `.invalidArgument` (any message: the text is each backend's own).
func expectInvalidArgument<Value>(
    _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Value
) {
    do {
        let value = try body()
        Issue.record("\(what): expected .invalidArgument, got \(value)", sourceLocation: sourceLocation)
    } catch {
        guard case .invalidArgument? = error as? StoreError else {
            Issue.record("\(what): expected .invalidArgument, got \(error)", sourceLocation: sourceLocation)
            return
        }
    }
}

/// Collects values handed over on the storage's threads (completions, commit events).
final class Collected<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) { values.withLock { $0.append(value) } }
    var all: [Value] { values.withLock { $0 } }
}

/// Waits until `condition` holds, up to `timeoutMs`; records an issue when it never does.
func waitUntil(
    timeoutMs: Int = 10_000, _ what: String, sourceLocation: SourceLocation = #_sourceLocation,
    _ condition: () throws -> Bool
) async throws {
    let deadline = Date().addingTimeInterval(Double(timeoutMs) / 1_000)
    while try !condition() {
        guard Date() < deadline else {
            Issue.record("\(what): not within \(timeoutMs) ms", sourceLocation: sourceLocation)
            return
        }
        try await Task.sleep(for: .milliseconds(5))
    }
}
