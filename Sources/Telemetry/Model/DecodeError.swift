/// Why a message from the network was refused, and where: the one error type of the protobuf and JSON codecs.
///
/// `path` names the field in the contract's own spelling (`series[2].mantissa_deltas`, `readings[3].ts`) and
/// `offset` is the byte position in the input where the problem was found, so an error message can say exactly
/// what and where (`readings[3].ts: expected integer (at byte 81)`).
public struct DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Reason: Equatable, Sendable {
        // Protobuf wire format.
        /// A varint ran past the end of the input.
        case truncatedVarint
        /// A varint longer than 10 bytes, or one whose 10th byte overflows 64 bits.
        case overlongVarint
        /// A fixed-size field or length-delimited field runs past the end of its enclosing message.
        case lengthPastEnd
        /// Field number 0, or a wire type that does not exist (6, 7), or an unmatched group end.
        case invalidTag
        /// A known field arrived with a wire type its declaration does not allow.
        case wrongWireType(expected: String, got: Int)
        /// Groups nested deeper than the decoder follows.
        case nestingTooDeep
        /// A varint does not fit the field's declared type.
        case valueOutOfRange
        // Semantic rules of the contract.
        /// seq must be at least 1.
        case seqMustBePositive
        /// Sensor name not matching `[a-z0-9_.-]{1,64}`.
        case invalidSensorName
        /// The exponent is outside −30…30.
        case exponentOutOfRange
        /// Summing the mantissa deltas overflows Int64.
        case deltaOverflow
        /// Computing a timestamp overflows Int64.
        case timestampOverflow
        /// A series with `interval_ms > 0` also carries time deltas.
        case intervalWithTimeDeltas
        /// A series with `interval_ms == 0` carries a number of time deltas other than readings − 1.
        case timeDeltaCount(expected: Int, got: Int)
        // Stream context (Upload and Sync streams).
        /// Stream context (a series without a sensor, a `ref`, seq 0) outside an Upload or Sync stream.
        case streamContextOutsideStream
        /// A series continues an entry not defined earlier on the stream.
        case unknownStreamEntry(number: Int, defined: Int)
        /// A series names its sensor and also gives `ref`.
        case sensorWithRef
        /// A continuing series gives an exponent (it takes its entry's).
        case exponentOnContinuation
        /// A continuing series omits `start_ms` but its entry has no regular interval or no reading to continue.
        case startNotContinuable(number: Int)
        /// More sensors defined on one stream than the limit allows.
        case tooManyStreamEntries(limit: Int)
        /// `packed_deltas` breaks its layout (the text says how).
        case packedDeltas(String)
        // Limits.
        /// More series in one batch than the limit allows.
        case tooManySeries(limit: Int)
        /// More readings in one series (protobuf) or one batch (JSON) than the limit allows.
        case tooManyReadings(limit: Int)
        /// The message is longer than the limit allows.
        case messageTooLarge(limit: Int)
        // JSON.
        /// JSON syntax error: the text says what was expected.
        case syntax(String)
        /// A value of the wrong JSON type: the text names the expected type.
        case expected(String)
        /// A required field is missing.
        case missingField
        /// A field the contract does not define.
        case unknownField
        /// A field given twice in one object.
        case duplicateField
        /// A number outside the field's range (or not finite).
        case numberOutOfRange
        /// A value was not on the sensor's decimal grid (`value` ≠ `mantissa × 10^exponent` for an integer mantissa).
        case valueOffGrid
        /// Timestamps of a series must not decrease (the compact form has no negative time deltas).
        case timestampsNotAscending
    }

    /// What is wrong.
    public var reason: Reason
    /// The field, in the contract's spelling; empty for the message itself.
    public var path: String
    /// Byte offset in the input where the problem was found.
    public var offset: Int

    /// An error with its reason; `path` and `offset` say where, when the decoder knows.
    public init(_ reason: Reason, path: String = "", offset: Int = 0) {
        self.reason = reason
        self.path = path
        self.offset = offset
    }

    /// A human-readable sentence naming the problem and where it is.
    public var description: String {
        let what: String
        switch reason {
        case .truncatedVarint: what = "truncated varint"
        case .overlongVarint: what = "varint longer than 64 bits"
        case .lengthPastEnd: what = "length runs past the end of the message"
        case .invalidTag: what = "invalid field tag"
        case .wrongWireType(let expected, let got): what = "wrong wire type \(got) (expected \(expected))"
        case .nestingTooDeep: what = "groups nested too deep"
        case .valueOutOfRange: what = "value out of range for the field's type"
        case .seqMustBePositive: what = "seq must be at least 1"
        case .invalidSensorName: what = "sensor name must match [a-z0-9_.-]{1,64}"
        case .exponentOutOfRange: what = "exponent must be within -30...30"
        case .deltaOverflow: what = "mantissa deltas overflow a 64-bit integer"
        case .timestampOverflow: what = "timestamps overflow a 64-bit integer"
        case .intervalWithTimeDeltas: what = "a series with interval_ms > 0 must not carry time_deltas_ms"
        case .timeDeltaCount(let expected, let got):
            what = "expected \(expected) time deltas (one fewer than readings), got \(got)"
        case .streamContextOutsideStream:
            what = "stream context (a series without a sensor, ref, or seq 0) is only valid on Upload and Sync streams"
        case .unknownStreamEntry(let number, let defined):
            what = "continues series \(number), but \(defined) series are defined earlier on this stream"
        case .sensorWithRef: what = "a series gives either sensor or ref, not both"
        case .exponentOnContinuation:
            what = "a continuing series takes its entry's exponent; name the sensor again to change it"
        case .startNotContinuable(let number):
            what = "start_ms omitted, but series \(number) of this stream has no regular interval and last reading "
                + "to continue from"
        case .tooManyStreamEntries(let limit): what = "more than \(limit) sensors defined on one stream"
        case .packedDeltas(let text): what = "malformed packed deltas: \(text)"
        case .tooManySeries(let limit): what = "more than \(limit) series in one batch"
        case .tooManyReadings(let limit): what = "more than \(limit) readings"
        case .messageTooLarge(let limit): what = "message larger than \(limit) bytes"
        case .syntax(let text): what = "invalid JSON: \(text)"
        case .expected(let type): what = "expected \(type)"
        case .missingField: what = "required field missing"
        case .unknownField: what = "unknown field"
        case .duplicateField: what = "field given more than once"
        case .numberOutOfRange: what = "number out of range"
        case .valueOffGrid: what = "value is not a whole multiple of 10^exponent"
        case .timestampsNotAscending: what = "timestamps must not decrease within a series"
        }
        let place = path.isEmpty ? "" : "\(path): "
        return "\(place)\(what) (at byte \(offset))"
    }
}

/// Limits on what a decoder accepts, checked as lengths become known, before anything is buffered.
public struct DecodeLimits: Equatable, Sendable {
    /// Largest message accepted, in bytes (gRPC default 4 MiB).
    public var maxMessageBytes: Int
    /// Most series accepted in one batch.
    public var maxSeriesPerBatch: Int
    /// Most readings accepted in one series (protobuf) or one batch (JSON).
    public var maxReadingsPerSeries: Int

    /// Memberwise, defaulting to the `standard` limits.
    public init(maxMessageBytes: Int = 4 << 20, maxSeriesPerBatch: Int = 1024, maxReadingsPerSeries: Int = 100_000) {
        self.maxMessageBytes = maxMessageBytes
        self.maxSeriesPerBatch = maxSeriesPerBatch
        self.maxReadingsPerSeries = maxReadingsPerSeries
    }

    /// The defaults: 4 MiB messages, 1024 series per batch, 100,000 readings per series.
    public static let standard = DecodeLimits()
}
