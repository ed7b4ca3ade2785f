// The REST ingest response: the Ack with the protobuf field names,
//
//     {"batches":1,"readings":40,"duplicate_batches":0,"last_seq":17}
//
// Decoding (for the simulator and tests) is strict: exactly these four keys, each an integer literal fitting
// UInt64 (a negative one is `.numberOutOfRange`). Error paths are the key names.

extension Ack {
    /// The Ack as compact JSON.
    public func jsonBytes() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 96)
        writer.beginObject()
        writer.key("batches")
        writer.value(batches)
        writer.key("readings")
        writer.value(readings)
        writer.key("duplicate_batches")
        writer.value(duplicateBatches)
        writer.key("last_seq")
        writer.value(lastSeq)
        writer.endObject()
        return writer.bytes
    }

    /// Decodes an Ack from JSON, requiring exactly the four fields as unsigned integers.
    public init<Bytes: Collection<UInt8>>(json bytes: Bytes) throws(DecodeError) {
        self = try JSONScanner.scan(bytes) { (scanner) throws(DecodeError) -> Ack in
            var field: String?
            do throws(DecodeError) {
                return try Self.decode(&scanner, field: &field)
            } catch {
                throw error.located(at: field ?? "")
            }
        }
    }

    /// The contract's field names, in the order written.
    private static let fieldNames: [StaticString] = ["batches", "readings", "duplicate_batches", "last_seq"]

    /// Decodes the object; `field` names the value being read, for error paths.
    private static func decode(_ scanner: inout JSONScanner, field: inout String?) throws(DecodeError) -> Ack {
        guard try scanner.peekKind() == .object else { throw scanner.typeMismatch(expected: "object") }
        try scanner.beginObject()
        var values: [UInt64?] = [nil, nil, nil, nil]
        while let key = try scanner.nextKey() {
            let keyOffset = key.range.lowerBound - 1
            guard let index = fieldNames.firstIndex(where: { scanner.string(key, equals: $0) }) else {
                throw DecodeError(
                    .unknownField, path: DecodeError.path("", key: scanner.string(key)), offset: keyOffset)
            }
            let name = "\(fieldNames[index])"
            guard values[index] == nil else { throw DecodeError(.duplicateField, path: name, offset: keyOffset) }
            field = name
            guard try scanner.peekKind() == .number else { throw scanner.typeMismatch(expected: "integer") }
            let token = try scanner.readNumber()
            guard token.isInteger else {
                throw DecodeError(.expected("integer"), path: name, offset: token.range.lowerBound)
            }
            guard let value = scanner.uint64(token) else {
                throw DecodeError(.numberOutOfRange, path: name, offset: token.range.lowerBound)
            }
            values[index] = value
            field = nil
        }
        let closingBrace = scanner.position - 1
        for (index, value) in values.enumerated() where value == nil {
            throw DecodeError(.missingField, path: "\(fieldNames[index])", offset: closingBrace)
        }
        try scanner.finish()
        return Ack(batches: values[0]!, readings: values[1]!, duplicateBatches: values[2]!, lastSeq: values[3]!)
    }
}
