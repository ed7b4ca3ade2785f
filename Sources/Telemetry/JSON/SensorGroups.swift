// Grouping a REST batch's readings by sensor without building a String per reading.
//
// Readings arrive one by one, each naming its sensor. Groups are kept in order of first appearance; a name is
// matched against the group of the previous reading first (devices usually send a sensor's readings together),
// then against all groups by a byte comparison. Past `indexThreshold` groups a dictionary takes over the search.

/// Readings collected per sensor, in order of each sensor's first appearance.
struct SensorGroups {
    /// Number of groups from which names are also looked up through `index`.
    static let indexThreshold = 16

    private var names: [[UInt8]] = []
    private var timestamps: [[Int64]] = []
    private var values: [[Double]] = []
    private var index: [String: Int] = [:]
    private var lastGroup = 0

    /// Number of readings collected.
    private(set) var readingCount = 0

    /// The group of the sensor named by `name` (validated UTF-8), created when it is new.
    mutating func group(named name: UnsafeRawBufferPointer) -> Int {
        if lastGroup < names.count && Self.equal(names[lastGroup], name) { return lastGroup }
        if names.count <= Self.indexThreshold {
            for group in names.indices where Self.equal(names[group], name) {
                lastGroup = group
                return group
            }
        } else if let group = index[String(decoding: name, as: UTF8.self)] {
            lastGroup = group
            return group
        }
        let group = names.count
        names.append(Array(name))
        timestamps.append([])
        values.append([])
        if names.count > Self.indexThreshold {
            if index.isEmpty {
                for (existing, bytes) in names.enumerated() { index[String(decoding: bytes, as: UTF8.self)] = existing }
            } else {
                index[String(decoding: name, as: UTF8.self)] = group
            }
        }
        lastGroup = group
        return group
    }

    /// Adds one reading to `group`.
    mutating func append(to group: Int, timestamp: Int64, value: Double) {
        timestamps[group].append(timestamp)
        values[group].append(value)
        readingCount += 1
    }

    /// The groups as `SensorReadings` (exponent unknown: REST sends plain numbers).
    func makeSensorReadings() -> [SensorReadings] {
        names.indices.map { group in
            SensorReadings(
                sensor: String(decoding: names[group], as: UTF8.self), exponent: nil,
                timestamps: timestamps[group], values: values[group])
        }
    }

    @inline(__always)
    private static func equal(_ stored: [UInt8], _ name: UnsafeRawBufferPointer) -> Bool {
        guard stored.count == name.count else { return false }
        return stored.withUnsafeBytes { storedBytes in
            var i = 0
            while i < name.count {
                guard storedBytes[i] == name[i] else { return false }
                i += 1
            }
            return true
        }
    }
}
