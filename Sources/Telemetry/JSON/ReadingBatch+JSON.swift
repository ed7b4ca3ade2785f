// The REST ingest body (`POST /v1/devices/{device}/readings`, `Content-Type: application/json`):
//
//     {"seq": 17, "readings": [{"sensor": "temperature", "ts": 1732190000123, "value": 21.54}, ...]}
//
// Decoding groups the readings by sensor in order of first appearance, each sensor's readings in arrival order;
// encoding writes them sensor entry by sensor entry. Values round-trip bit for bit, `-0.0` included: the writer
// prints it as `-0.0` and the reader keeps the sign (as `Double("-0.0")` does).

extension ReadingBatch {
    /// Decodes and validates a REST ingest body.
    ///
    /// Refuses input longer than `limits.maxMessageBytes` before reading any of it, and more than
    /// `limits.maxReadingsPerSeries` readings as soon as the count passes it. Errors name the field as the contract
    /// spells it (`seq`, `readings[3].ts`) and the byte offset where the problem was found.
    public init<Bytes: Collection<UInt8>>(json bytes: Bytes, limits: DecodeLimits = .standard) throws(DecodeError) {
        guard bytes.count <= limits.maxMessageBytes else {
            throw DecodeError(.messageTooLarge(limit: limits.maxMessageBytes), offset: limits.maxMessageBytes)
        }
        self = try JSONScanner.withContiguousBytes(bytes) { (raw) throws(DecodeError) -> ReadingBatch in
            var decoder = ReadingBatchJSONDecoder(raw, limits: limits)
            return try decoder.decode()
        }
    }

    /// The batch as a compact REST ingest body, readings in sensor-entry order.
    ///
    /// Non-finite values (which no decoder produces) are written as `null`, which decoding refuses.
    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 32 + readingCount * (64 + (sensors.first?.sensor.utf8.count ?? 0)))
        writer.beginObject()
        writer.key("seq")
        writer.value(seq)
        writer.key("readings")
        writer.beginArray()
        for entry in sensors {
            for i in 0..<entry.count {
                writer.beginObject()
                writer.key("sensor")
                writer.value(entry.sensor)
                writer.key("ts")
                writer.value(entry.timestamps[i])
                writer.key("value")
                writer.value(entry.values[i])
                writer.endObject()
            }
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
