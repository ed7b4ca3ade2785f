// Grouping a REST batch's readings by sensor without building a String per reading.
//
// Readings arrive one by one, each naming its sensor. Groups are numbered in order of first appearance; a name is
// matched against the group of the previous reading first (devices often send a sensor's readings together), then
// against all groups by a byte comparison; past `indexThreshold` groups a dictionary takes over the search. A name
// is validated only when it starts a new group: a name equal to a group's is as valid as that group's.
//
// Readings are kept in flat arrays (group, timestamp, value), reserved once from an upper bound on their number,
// and split into per-sensor arrays of exact size at the end, so decoding does not reallocate as groups grow.

/// Readings collected per sensor, in order of each sensor's first appearance.
struct SensorGroups {
    /// Number of groups from which names are also looked up through `index`.
    static let indexThreshold = 16

    private var names: [[UInt8]] = []
    private var index: [String: Int] = [:]
    private var lastGroup = 0
    private var groupOfReading: [Int32] = []
    private var timestamps: [Int64] = []
    private var values: [Double] = []

    /// Groups for about `expectedReadings` readings (an upper bound avoids reallocation).
    init(expectedReadings: Int) {
        groupOfReading.reserveCapacity(expectedReadings)
        timestamps.reserveCapacity(expectedReadings)
        values.reserveCapacity(expectedReadings)
    }

    /// The group of the sensor named by `name` (UTF-8), created when it is new; nil when a new name is not a valid
    /// sensor name.
    mutating func group(named name: UnsafeRawBufferPointer) -> Int? {
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
        guard Identifiers.isValidSensorName(name) else { return nil }
        let group = names.count
        names.append(Array(name))
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
    @inline(__always)
    mutating func append(to group: Int, timestamp: Int64, value: Double) {
        groupOfReading.append(Int32(truncatingIfNeeded: group))
        timestamps.append(timestamp)
        values.append(value)
    }

    /// The groups as `SensorReadings` (exponent unknown: REST sends plain numbers).
    func makeSensorReadings() -> [SensorReadings] {
        if names.count == 1 {
            let name = String(decoding: names[0], as: UTF8.self)
            return [SensorReadings(sensor: name, exponent: nil, timestamps: timestamps, values: values)]
        }
        var counts = [Int](repeating: 0, count: names.count)
        for group in groupOfReading { counts[Int(group)] += 1 }
        var groupTimestamps = counts.map { count -> [Int64] in
            var column: [Int64] = []
            column.reserveCapacity(count)
            return column
        }
        var groupValues = counts.map { count -> [Double] in
            var column: [Double] = []
            column.reserveCapacity(count)
            return column
        }
        for (reading, group) in groupOfReading.enumerated() {
            groupTimestamps[Int(group)].append(timestamps[reading])
            groupValues[Int(group)].append(values[reading])
        }
        return names.indices.map { group in
            SensorReadings(
                sensor: String(decoding: names[group], as: UTF8.self), exponent: nil,
                timestamps: groupTimestamps[group], values: groupValues[group])
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
