// Batch in protobuf's canonical proto3 JSON mapping: the body of a Connect `application/json` Push.
//
//     {"seq":"17","series":[{"sensor":"temperature","exponent":-2,"startMs":"1732190000000","intervalMs":1000,
//                            "mantissaDeltas":["2154","1","-2"]}]}
//
// Encoding is canonical, as protobuf's own printers write it: fields in field-number order under their
// lowerCamelCase names, 64-bit integers (seq, startMs, each mantissa delta) as strings, 32-bit ones as numbers,
// fields with their default value (0, "", empty) left out, bytes in standard padded base64. Decoding
// (`BatchProtoJSONDecoder`) accepts everything the mapping allows and gives what `Batch(protobuf:)` gives.

extension Batch {
    /// Decodes a Batch from proto3 JSON; the result is what `Batch(protobuf:limits:)` gives for the same message,
    /// with the same limits and the same rules (no stream context). Input longer than `limits.maxMessageBytes` is
    /// refused before any of it is read. Errors name the field as sent and the byte offset
    /// (`series[1].startMs: expected an int64 (number or string), got an array (at byte 57)`).
    public init(protoJSON bytes: UnsafeRawBufferPointer, limits: DecodeLimits = .standard) throws(DecodeError) {
        guard bytes.count <= limits.maxMessageBytes else {
            throw DecodeError(.messageTooLarge(limit: limits.maxMessageBytes), offset: limits.maxMessageBytes)
        }
        var decoder = BatchProtoJSONDecoder(bytes, limits: limits)
        self = try decoder.decode()
    }

    /// Decodes a Batch from proto3 JSON held in an array or slice (see `init(protoJSON:limits:)`).
    public init(protoJSON bytes: some Collection<UInt8>, limits: DecodeLimits = .standard) throws(DecodeError) {
        guard bytes.count <= limits.maxMessageBytes else {
            throw DecodeError(.messageTooLarge(limit: limits.maxMessageBytes), offset: limits.maxMessageBytes)
        }
        self = try JSONScanner.withContiguousBytes(bytes) { (raw) throws(DecodeError) -> Batch in
            try Batch(protoJSON: raw, limits: limits)
        }
    }

    /// The batch in canonical proto3 JSON. With `packingDeltas`, each series' deltas go bit-packed in
    /// `packedDeltas` (base64) where the protobuf encoding would pack them: the same split as
    /// `protobufBytes(packingDeltas:)`, so both forms carry the same fields.
    public func protoJSONBytes(packingDeltas: Bool = false) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 32 + series.reduce(0) { $0 + 96 + $1.count * 8 })
        writeProtoJSON(to: &writer, packingDeltas: packingDeltas)
        return writer.bytes
    }

    /// Writes the batch as a canonical proto3 JSON object (inside another message, such as a DeviceBatch).
    func writeProtoJSON(to writer: inout JSONWriter, packingDeltas: Bool) {
        writer.beginObject()
        if seq != 0 {
            writer.key("seq")
            writer.value(String(seq))
        }
        if !series.isEmpty {
            writer.key("series")
            writer.beginArray()
            for entry in series { entry.writeProtoJSON(to: &writer, packingDeltas: packingDeltas) }
            writer.endArray()
        }
        writer.endObject()
    }
}

extension Series {
    /// Writes the series as a canonical proto3 JSON object.
    func writeProtoJSON(to writer: inout JSONWriter, packingDeltas: Bool) {
        let split = DeltaSplit(mantissaDeltas, packing: packingDeltas)
        writer.beginObject()
        if !sensor.isEmpty {
            writer.key("sensor")
            writer.value(sensor)
        }
        if exponent != 0 {
            writer.key("exponent")
            writer.value(Int64(exponent))
        }
        if startMs != 0 {
            writer.key("startMs")
            writer.value(String(startMs))
        }
        if intervalMs != 0 {
            writer.key("intervalMs")
            writer.value(UInt64(intervalMs))
        }
        if split.varints > 0 {
            writer.key("mantissaDeltas")
            writer.beginArray()
            for delta in mantissaDeltas.prefix(split.varints) { writer.value(String(delta)) }
            writer.endArray()
        }
        if !timeDeltasMs.isEmpty {
            writer.key("timeDeltasMs")
            writer.beginArray()
            for delta in timeDeltasMs { writer.value(UInt64(delta)) }
            writer.endArray()
        }
        if ref != 0 {
            writer.key("ref")
            writer.value(UInt64(ref))
        }
        if split.varints < mantissaDeltas.count {
            var run = ProtobufWriter(capacity: split.packedBytes)
            PackedDeltas.write(mantissaDeltas[split.varints...], width: split.packedWidth, to: &run)
            writer.key("packedDeltas")
            writer.value(String(decoding: ProtoJSONBase64.encode(run.bytes), as: UTF8.self))
        }
        writer.endObject()
    }
}
