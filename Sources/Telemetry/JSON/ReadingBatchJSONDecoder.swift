// The REST ingest body, decoded in one pass over the bytes with the pull scanner, no tree:
//
//     {"seq": 17, "readings": [{"sensor": "temperature", "ts": 1732190000123, "value": 21.54}, ...]}
//
// Rules: the top level is an object with exactly `seq` (integer literal, 1 ≤ seq ≤ 2^64−1) and `readings` (array);
// each reading is an object with exactly `sensor` (string matching `[a-z0-9_.-]{1,64}`), `ts` (integer literal
// fitting Int64) and `value` (any number whose Double is finite). Keys may come in any order; unknown, repeated
// and missing keys are errors. Errors are found in document order, so the first problem in the body is reported.
//
// Error paths: `location` always names the value being read (`seq`, `readings`, `readings[3]`, `readings[3].ts`),
// so a scanner error, which knows only its offset, is given the path of the value it was found in. Decisions of the
// contract are thrown with their path directly. A negative seq is reported as `.seqMustBePositive`, like 0.

/// Decodes one REST ingest body into a `ReadingBatch`.
struct ReadingBatchJSONDecoder {
    /// A field of a reading object; the raw value is its key.
    enum ReadingField: String {
        /// `sensor`: the sensor's name.
        case sensor
        /// `ts`: Unix milliseconds.
        case ts
        /// `value`: the reading.
        case value
    }

    /// The value being read, for error paths.
    enum Location {
        /// The top-level object itself (the empty path).
        case message
        /// The value of `seq`.
        case seq
        /// The `readings` array.
        case readings
        /// Element `index` of `readings`.
        case reading(Int)
        /// A field of element `index` of `readings`.
        case readingField(Int, ReadingField)

        /// The location in the contract's spelling: `readings[3].ts`.
        var path: String {
            switch self {
            case .message: ""
            case .seq: "seq"
            case .readings: "readings"
            case .reading(let index): "readings[\(index)]"
            case .readingField(let index, let field): "readings[\(index)].\(field.rawValue)"
            }
        }
    }

    /// Fewest bytes one reading takes: `{"sensor":"a","ts":0,"value":0},`.
    static let minimumBytesPerReading = 32

    private var scanner: JSONScanner
    private let limits: DecodeLimits
    private var groups: SensorGroups
    private var location = Location.message

    /// A decoder over `bytes`, which must stay valid while it decodes.
    init(_ bytes: UnsafeRawBufferPointer, limits: DecodeLimits) {
        scanner = JSONScanner(bytes)
        self.limits = limits
        let mostReadings = min(bytes.count / Self.minimumBytesPerReading, max(limits.maxReadingsPerSeries, 0))
        groups = SensorGroups(expectedReadings: mostReadings)
    }

    /// Decodes the whole body.
    mutating func decode() throws(DecodeError) -> ReadingBatch {
        do {
            return try decodeBatch()
        } catch {
            throw error.located(at: location.path)
        }
    }

    private mutating func decodeBatch() throws(DecodeError) -> ReadingBatch {
        guard try scanner.peekKind() == .object else { throw scanner.typeMismatch(expected: "object") }
        try scanner.beginObject()
        var seq: UInt64?
        var hasReadings = false
        while let key = try scanner.nextKey() {
            let keyOffset = key.range.lowerBound - 1
            if scanner.string(key, equals: "seq") {
                guard seq == nil else { throw DecodeError(.duplicateField, path: "seq", offset: keyOffset) }
                location = .seq
                seq = try decodeSeq()
            } else if scanner.string(key, equals: "readings") {
                guard !hasReadings else { throw DecodeError(.duplicateField, path: "readings", offset: keyOffset) }
                hasReadings = true
                location = .readings
                try decodeReadings()
            } else {
                throw DecodeError(
                    .unknownField, path: DecodeError.path("", key: scanner.string(key)), offset: keyOffset)
            }
            location = .message
        }
        let closingBrace = scanner.position - 1
        guard let seq else { throw DecodeError(.missingField, path: "seq", offset: closingBrace) }
        guard hasReadings else { throw DecodeError(.missingField, path: "readings", offset: closingBrace) }
        try scanner.finish()
        return ReadingBatch(seq: seq, sensors: groups.makeSensorReadings())
    }

    private mutating func decodeSeq() throws(DecodeError) -> UInt64 {
        let token = try readIntegerToken()
        if token.isNegative { throw DecodeError(.seqMustBePositive, path: "seq", offset: token.range.lowerBound) }
        guard let seq = scanner.uint64(token), seq <= Batch.maxSeq else {
            throw DecodeError(.numberOutOfRange, path: "seq", offset: token.range.lowerBound)
        }
        guard seq >= 1 else { throw DecodeError(.seqMustBePositive, path: "seq", offset: token.range.lowerBound) }
        return seq
    }

    private mutating func decodeReadings() throws(DecodeError) {
        guard try scanner.peekKind() == .array else { throw scanner.typeMismatch(expected: "array") }
        try scanner.beginArray()
        var index = 0
        while try scanner.nextElement() {
            guard index < limits.maxReadingsPerSeries else {
                throw DecodeError(
                    .tooManyReadings(limit: limits.maxReadingsPerSeries), path: "readings", offset: scanner.position)
            }
            location = .reading(index)
            try decodeReading(index)
            location = .readings
            index += 1
        }
    }

    private mutating func decodeReading(_ index: Int) throws(DecodeError) {
        guard try scanner.peekKind() == .object else { throw scanner.typeMismatch(expected: "object") }
        try scanner.beginObject()
        var group: Int?
        var ts: Int64?
        var value: Double?
        while let key = try scanner.nextKey() {
            let keyOffset = key.range.lowerBound - 1
            guard let field = readingField(key) else {
                let path = DecodeError.path(location.path, key: scanner.string(key))
                throw DecodeError(.unknownField, path: path, offset: keyOffset)
            }
            location = .readingField(index, field)
            switch field {
            case .sensor:
                guard group == nil else { throw DecodeError(.duplicateField, path: location.path, offset: keyOffset) }
                group = try decodeSensor()
            case .ts:
                guard ts == nil else { throw DecodeError(.duplicateField, path: location.path, offset: keyOffset) }
                ts = try decodeTimestamp()
            case .value:
                guard value == nil else { throw DecodeError(.duplicateField, path: location.path, offset: keyOffset) }
                value = try decodeValue()
            }
            location = .reading(index)
        }
        let closingBrace = scanner.position - 1
        guard let group else { throw missing(.sensor, index, closingBrace) }
        guard let ts else { throw missing(.ts, index, closingBrace) }
        guard let value else { throw missing(.value, index, closingBrace) }
        groups.append(to: group, timestamp: ts, value: value)
    }

    private func missing(_ field: ReadingField, _ index: Int, _ offset: Int) -> DecodeError {
        DecodeError(.missingField, path: Location.readingField(index, field).path, offset: offset)
    }

    /// The reading field `key` names, compared on the raw bytes when it has no escapes.
    @inline(__always)
    private func readingField(_ key: JSONStringToken) -> ReadingField? {
        if scanner.string(key, equals: "sensor") { return .sensor }
        if scanner.string(key, equals: "ts") { return .ts }
        if scanner.string(key, equals: "value") { return .value }
        return nil
    }

    private mutating func decodeSensor() throws(DecodeError) -> Int {
        guard try scanner.peekKind() == .string else { throw scanner.typeMismatch(expected: "string") }
        let token = try scanner.readString()
        let group = scanner.withUTF8(token) { name in groups.group(named: name) }
        guard let group else {
            throw DecodeError(.invalidSensorName, path: location.path, offset: token.range.lowerBound - 1)
        }
        return group
    }

    private mutating func decodeTimestamp() throws(DecodeError) -> Int64 {
        let token = try readIntegerToken()
        guard let ts = scanner.int64(token) else {
            throw DecodeError(.numberOutOfRange, path: location.path, offset: token.range.lowerBound)
        }
        return ts
    }

    private mutating func decodeValue() throws(DecodeError) -> Double {
        guard try scanner.peekKind() == .number else { throw scanner.typeMismatch(expected: "number") }
        let token = try scanner.readNumber()
        let value = scanner.double(token)
        guard value.isFinite else {
            throw DecodeError(.numberOutOfRange, path: location.path, offset: token.range.lowerBound)
        }
        return value
    }

    /// Reads a number written as an integer (no fraction, no exponent); `.expected("integer")` otherwise.
    private mutating func readIntegerToken() throws(DecodeError) -> JSONNumberToken {
        guard try scanner.peekKind() == .number else { throw scanner.typeMismatch(expected: "integer") }
        let token = try scanner.readNumber()
        guard token.isInteger else {
            throw DecodeError(.expected("integer"), path: location.path, offset: token.range.lowerBound)
        }
        return token
    }
}
