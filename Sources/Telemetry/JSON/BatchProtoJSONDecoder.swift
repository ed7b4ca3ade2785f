// A `Batch` in protobuf's canonical JSON mapping (the Connect protocol's `application/json`), decoded in one pass
// with the pull scanner:
//
//     {"seq":"17","series":[{"sensor":"temperature","exponent":-2,"startMs":"1732190000000","intervalMs":1000,
//                            "mantissaDeltas":["2154","1","-2"]}]}
//
// The result is exactly what `Batch(protobuf:)` gives for the same message: the same limits, checked as counts
// grow (series per batch; readings per series for `mantissaDeltas`, `timeDeltasMs` and both delta lists
// together), `packedDeltas` decoded and appended to the varint deltas, no stream context (`ref` is refused, seq
// must be at least 1), and every series validated by `Series.validate`.
//
// JSON rules (proto3): each field by its lowerCamelCase JSON name or its .proto name; a field given twice in one
// object (under either name) is an error, so is an unknown field; `null` is the field's default value (but not
// an element of a repeated field); scalars as `JSONScanner+ProtoJSON` reads them.
//
// Error paths name fields as the client spelled them (`series[1].startMs`), array elements by index
// (`series[0].mantissaDeltas[3]`); fields the client did not send, named by a rule of the contract, get their
// JSON name. Offsets are byte positions in the body; a broken rule of a whole series points at its closing `}`.

/// Decodes one proto3 JSON `Batch`.
struct BatchProtoJSONDecoder {
    /// A field of `Series`, by number; its two accepted spellings and its name in `Series.validate`'s paths.
    enum SeriesField: Int, CaseIterable {
        case sensor = 1
        case exponent, startMs, intervalMs, mantissaDeltas, timeDeltasMs, ref, packedDeltas

        /// The lowerCamelCase JSON name.
        var jsonName: StaticString {
            switch self {
            case .sensor: "sensor"
            case .exponent: "exponent"
            case .startMs: "startMs"
            case .intervalMs: "intervalMs"
            case .mantissaDeltas: "mantissaDeltas"
            case .timeDeltasMs: "timeDeltasMs"
            case .ref: "ref"
            case .packedDeltas: "packedDeltas"
            }
        }

        /// The .proto field name (also what the contract's validation names in its paths).
        var protoName: StaticString {
            switch self {
            case .sensor: "sensor"
            case .exponent: "exponent"
            case .startMs: "start_ms"
            case .intervalMs: "interval_ms"
            case .mantissaDeltas: "mantissa_deltas"
            case .timeDeltasMs: "time_deltas_ms"
            case .ref: "ref"
            case .packedDeltas: "packed_deltas"
            }
        }
    }

    private var scanner: JSONScanner
    private let limits: DecodeLimits

    /// A decoder over `bytes`, which must stay valid while it decodes.
    init(_ bytes: UnsafeRawBufferPointer, limits: DecodeLimits) {
        scanner = JSONScanner(bytes)
        self.limits = limits
    }

    /// Decodes the whole body into a valid Batch.
    mutating func decode() throws(DecodeError) -> Batch {
        let kind = try scanner.peekKind()
        guard kind == .object else { throw scanner.protoJSONMismatch(expected: "an object (a Batch)", got: kind) }
        try scanner.beginObject()
        var seq: UInt64?
        var series: [Series]?
        while let key = try scanner.nextKey() {
            let keyOffset = key.range.lowerBound - 1
            let name = scanner.string(key)
            if scanner.string(key, equals: "seq") {
                guard seq == nil else { throw DecodeError(.duplicateField, path: name, offset: keyOffset) }
                seq = try value(at: name) { (s) throws(DecodeError) in
                    try s.readNullAsDefault() ? 0 : try s.readProtoJSONUInt64()
                }
            } else if scanner.string(key, equals: "series") {
                guard series == nil else { throw DecodeError(.duplicateField, path: name, offset: keyOffset) }
                series = try decodeSeriesList(path: name)
            } else {
                throw DecodeError(.unknownField, path: DecodeError.path("", key: name), offset: keyOffset)
            }
        }
        let end = scanner.position
        try scanner.finish()
        guard let seq, seq >= 1 else { throw DecodeError(.seqMustBePositive, path: "seq", offset: end) }
        guard seq <= Batch.maxSeq else { throw DecodeError(.valueOutOfRange, path: "seq", offset: end) }
        return Batch(seq: seq, series: series ?? [])
    }

    /// Reads one value with `body`, giving a scanner error (which knows only its offset) the path `path`, built
    /// only then (an element's path is not built for every reading).
    private mutating func value<T>(
        at path: @autoclosure () -> String, _ body: (inout JSONScanner) throws(DecodeError) -> T
    ) throws(DecodeError) -> T {
        do throws(DecodeError) {
            return try body(&scanner)
        } catch {
            throw error.located(at: path())
        }
    }

    private mutating func decodeSeriesList(path: String) throws(DecodeError) -> [Series] {
        let isNull = try value(at: path) { (s) throws(DecodeError) in try s.readNullAsDefault() }
        if isNull { return [] }
        let kind = try scanner.peekKind()
        guard kind == .array else {
            throw scanner.protoJSONMismatch(expected: "an array of Series", got: kind).located(at: path)
        }
        try scanner.beginArray()
        var series: [Series] = []
        while try value(at: path, { (s) throws(DecodeError) in try s.nextElement() }) {
            guard series.count < limits.maxSeriesPerBatch else {
                throw DecodeError(
                    .tooManySeries(limit: limits.maxSeriesPerBatch), path: path,
                    offset: scanner.position)
            }
            series.append(try decodeSeries(path: DecodeError.path(path, index: series.count)))
        }
        return series
    }

    private mutating func decodeSeries(path prefix: String) throws(DecodeError) -> Series {
        let kind = try value(at: prefix) { (s) throws(DecodeError) in try s.peekKind() }
        guard kind == .object else {
            throw scanner.protoJSONMismatch(expected: "an object (a Series)", got: kind).located(at: prefix)
        }
        try scanner.beginObject()
        var series = Series(sensor: "", exponent: 0, startMs: 0, intervalMs: 0, mantissaDeltas: [])
        // The key each field came under (which spelling), by field number; nil for fields not sent.
        var keys: [String?] = Array(repeating: nil, count: SeriesField.allCases.count + 1)
        var packed: (bytes: [UInt8], offset: Int)?
        while let key = try value(at: prefix, { (s) throws(DecodeError) in try s.nextKey() }) {
            let keyOffset = key.range.lowerBound - 1
            let name = scanner.string(key)
            let path = DecodeError.path(prefix, key: name)
            guard let field = seriesField(key) else { throw DecodeError(.unknownField, path: path, offset: keyOffset) }
            guard keys[field.rawValue] == nil else { throw DecodeError(.duplicateField, path: path, offset: keyOffset) }
            keys[field.rawValue] = name
            let valueOffset = try value(at: path) { (s) throws(DecodeError) in
                _ = try s.peekKind()
                return s.position
            }
            if try value(at: path, { (s) throws(DecodeError) in try s.readNullAsDefault() }) { continue }
            switch field {
            case .sensor:
                let token = try value(at: path) { (s) throws(DecodeError) in try s.readProtoJSONString() }
                series.sensor = scanner.string(token)
                guard Identifiers.isValidSensorName(series.sensor) else {
                    throw DecodeError(.invalidSensorName, path: path, offset: valueOffset)
                }
            case .exponent:
                series.exponent = try value(at: path) { (s) throws(DecodeError) in try s.readProtoJSONSInt32() }
            case .startMs:
                series.startMs = try value(at: path) { (s) throws(DecodeError) in try s.readProtoJSONInt64(.int64) }
            case .intervalMs:
                series.intervalMs = try value(at: path) { (s) throws(DecodeError) in try s.readProtoJSONUInt32() }
            case .mantissaDeltas:
                series.mantissaDeltas = try decodeRepeated(path: path) { (s) throws(DecodeError) in
                    try s.readProtoJSONInt64(.sint64)
                }
            case .timeDeltasMs:
                series.timeDeltasMs = try decodeRepeated(path: path) { (s) throws(DecodeError) in
                    try s.readProtoJSONUInt32()
                }
            case .ref:
                series.ref = try value(at: path) { (s) throws(DecodeError) in try s.readProtoJSONUInt32() }
            case .packedDeltas:
                let bytes = try value(at: path) { (s) throws(DecodeError) in try s.readProtoJSONBytes() }
                packed = (bytes, valueOffset)
            }
        }
        let end = scanner.position - 1
        func path(_ field: SeriesField) -> String {
            "\(prefix).\(keys[field.rawValue] ?? "\(field.jsonName)")"
        }
        // An empty value is proto3's default for bytes, the same as no field (as in the protobuf decoder).
        if let packed, !packed.bytes.isEmpty {
            let limit = limits.maxReadingsPerSeries
            let packedPath = path(.packedDeltas)
            let read = packed.bytes.withUnsafeBytes { raw in
                Result { () throws(DecodeError) in try PackedDeltas.read(raw, limit: limit, path: packedPath, offset: 0)
                }
            }
            let deltas: [Int64]
            switch read {
            case .success(let value): deltas = value
            case .failure(let error):
                // Offsets inside the decoded run mean nothing in the body: point at the value instead.
                throw DecodeError(error.reason, path: error.path, offset: packed.offset)
            }
            guard series.mantissaDeltas.count + deltas.count <= limit else {
                throw DecodeError(.tooManyReadings(limit: limit), path: path(.packedDeltas), offset: end)
            }
            series.mantissaDeltas += deltas
        }
        guard series.ref == 0 else { throw DecodeError(.streamContextOutsideStream, path: path(.ref), offset: end) }
        do throws(DecodeError) {
            try series.validate(path: prefix, offset: end)
        } catch {
            // `validate` names fields by their .proto names: rename to the spelling the client used.
            var renamed = error
            if let field = SeriesField.allCases.first(where: { error.path == "\(prefix).\($0.protoName)" }) {
                renamed.path = path(field)
            }
            throw renamed
        }
        return series
    }

    /// Reads a repeated scalar field's array (null elements are refused), within the readings limit.
    private mutating func decodeRepeated<T>(path: String, element: (inout JSONScanner) throws(DecodeError) -> T)
        throws(DecodeError) -> [T]
    {
        let kind = try value(at: path) { (s) throws(DecodeError) in try s.peekKind() }
        guard kind == .array else { throw scanner.protoJSONMismatch(expected: "an array", got: kind).located(at: path) }
        try scanner.beginArray()
        var values: [T] = []
        let limit = limits.maxReadingsPerSeries
        while try value(at: path, { (s) throws(DecodeError) in try s.nextElement() }) {
            guard values.count < limit else {
                throw DecodeError(.tooManyReadings(limit: limit), path: path, offset: scanner.position)
            }
            values.append(try value(at: DecodeError.path(path, index: values.count), element))
        }
        return values
    }

    /// The Series field `key` names under either spelling, compared on the raw bytes when it has no escapes.
    private func seriesField(_ key: JSONStringToken) -> SeriesField? {
        SeriesField.allCases.first {
            scanner.string(key, equals: $0.jsonName) || scanner.string(key, equals: $0.protoName)
        }
    }
}
