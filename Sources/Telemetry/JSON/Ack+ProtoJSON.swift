// Ack in protobuf's canonical proto3 JSON mapping: the answer to a Connect `application/json` Push.
//
//     {"batches":"1","readings":"6","lastSeq":"7"}
//
// Four uint64 fields, written as strings under their lowerCamelCase names in field-number order, zero ones left
// out (so an all-zero Ack is `{}`). Decoding (for clients and tests) takes either spelling (`lastSeq` or
// `last_seq`), numbers or strings, `null` as 0; an unknown or repeated field is an error. (The REST answer is
// another JSON form of the same Ack: `Ack+JSON.swift`.)

extension Ack {
    /// The fields: JSON name, .proto name.
    private static let protoJSONNames: [(json: StaticString, proto: StaticString)] = [
        ("batches", "batches"), ("readings", "readings"), ("duplicateBatches", "duplicate_batches"),
        ("lastSeq", "last_seq"),
    ]

    /// The Ack as canonical proto3 JSON.
    public func protoJSONBytes() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 96)
        writer.beginObject()
        for (index, value) in [batches, readings, duplicateBatches, lastSeq].enumerated() where value != 0 {
            writer.key("\(Self.protoJSONNames[index].json)")
            writer.value(String(value))
        }
        writer.endObject()
        return writer.bytes
    }

    /// Decodes an Ack from proto3 JSON (either field spelling, numbers or strings; absent fields are 0).
    public init(protoJSON bytes: some Collection<UInt8>) throws(DecodeError) {
        self = try JSONScanner.scan(bytes) { (scanner) throws(DecodeError) -> Ack in
            let kind = try scanner.peekKind()
            guard kind == .object else { throw scanner.protoJSONMismatch(expected: "an object (an Ack)", got: kind) }
            try scanner.beginObject()
            var values: [UInt64?] = [nil, nil, nil, nil]
            while let key = try scanner.nextKey() {
                let keyOffset = key.range.lowerBound - 1
                let name = scanner.string(key)
                guard
                    let index = Self.protoJSONNames.firstIndex(where: {
                        scanner.string(key, equals: $0.json) || scanner.string(key, equals: $0.proto)
                    })
                else {
                    throw DecodeError(.unknownField, path: DecodeError.path("", key: name), offset: keyOffset)
                }
                guard values[index] == nil else { throw DecodeError(.duplicateField, path: name, offset: keyOffset) }
                do throws(DecodeError) {
                    values[index] = try scanner.readNullAsDefault() ? 0 : try scanner.readProtoJSONUInt64()
                } catch {
                    throw error.located(at: name)
                }
            }
            try scanner.finish()
            return Ack(
                batches: values[0] ?? 0, readings: values[1] ?? 0, duplicateBatches: values[2] ?? 0,
                lastSeq: values[3] ?? 0)
        }
    }
}
