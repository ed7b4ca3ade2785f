// What one device costs in memory, for sizing a 10,000-device run. Swift's allocations: a value's inline size, plus
// for each array it owns a heap block of a 32-byte header and its capacity's elements (malloc rounds a little
// more). The settings' sensor list is one array shared by every device, so it is not counted per device; a device
// id of up to 15 UTF-8 bytes is stored inline in the String.

extension SimulatedDevice {
    /// Swift's heap header for an array's storage: object header (16 bytes) plus count and capacity (16 bytes).
    static let arrayHeaderBytes = 32

    /// Bytes the device occupies apart from its buffered readings: inline state, sensor models, the buffer's
    /// index of batches, and an out-of-line device id.
    public var stateBytes: Int {
        var bytes = MemoryLayout<SimulatedDevice>.size
        bytes += Self.arrayHeaderBytes + models.capacity * MemoryLayout<SensorModel>.stride
        if queue.batches.capacity > 0 {
            bytes += Self.arrayHeaderBytes + queue.batches.capacity * MemoryLayout<PendingBatch>.stride
        }
        let idLength = deviceID.utf8.count
        if idLength > 15 { bytes += Self.arrayHeaderBytes + idLength }
        return bytes
    }

    /// Bytes of the buffered readings: each buffered batch's mantissa array (4 bytes per reading).
    public var bufferedBytes: Int {
        queue.batches.reduce(0) { $0 + Self.arrayHeaderBytes + $1.mantissas.capacity * MemoryLayout<Int32>.stride }
    }
}
