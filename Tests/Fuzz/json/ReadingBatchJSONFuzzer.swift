// Fuzzes the REST ingest body decoder (`ReadingBatch(json:)`) with properties that must hold for every input:
//
// - Differential: a second decoder built here from the generic tree parser (`JSONValue.parse`), the standard
//   library's number conversions and the contract's rules as the README states them accepts exactly the bodies the
//   streaming decoder accepts, with the same readings, value bits included; a syntax error is reported at the same
//   byte with the same text by both. A document the tree parser accepts is valid UTF-8 (stdlib validator).
// - The decode does not depend on where the bytes lie (raw buffer, offset array slice, non-contiguous collection).
// - An error points inside the input (offset within 0...count).
// - A decoded batch is valid: seq in 1...2^63−1, one entry per sensor, valid names, finite values.
// - Round trip: `jsonBytes()` of a decoded batch decodes to the same batch and is a fixed point.
// - Cross-codec: when every sensor's values lie on one decimal grid and its timestamps ascend, the batch encoded
//   as protobuf and decoded gives the same readings (equal values; `-0.0` has no compact form and becomes `0.0`).
// - Limits only refuse, never alter: with a 3-reading limit a batch decodes the same or is refused for the limit
//   (exactly when it has more than 3 readings); input one byte over `maxMessageBytes` is refused for its size.
// - The Ack body decoder (REST answers, read by the simulator) round-trips what it accepts.

/// One libFuzzer input: one REST ingest body, also read as an Ack body.
func fuzzOneInput(_ input: UnsafeRawBufferPointer) {
    let decoded = outcome { () throws(DecodeError) in try ReadingBatch(json: input) }
    checkPlacementIndependence(input, decoded)
    checkAgainstTreeDecoder(input, decoded)
    switch decoded {
    case .failure(let error):
        require(error.offset >= 0 && error.offset <= input.count, "error offset \(error.offset) outside the input")
    case .success(let batch):
        checkDecodedBatch(batch)
        checkRoundTrip(batch)
        checkProtobufCrossCodec(batch)
    }
    checkLimits(input, decoded)
    fuzzAck(input)
}

/// The Ack body decoder (the simulator reads REST acks with it): a decoded Ack round-trips.
func fuzzAck(_ input: UnsafeRawBufferPointer) {
    let decoded = outcome { () throws(DecodeError) in try Ack(json: input) }
    switch decoded {
    case .failure(let error):
        require(error.offset >= 0 && error.offset <= input.count, "Ack error offset \(error.offset) outside input")
    case .success(let ack):
        let again = outcome { () throws(DecodeError) in try Ack(json: ack.jsonBytes()) }
        require(again == .success(ack), "Ack JSON round trip: \(again) vs \(ack)")
    }
}

/// Raw buffer, offset slice and non-contiguous collection decode alike.
func checkPlacementIndependence(_ input: UnsafeRawBufferPointer, _ decoded: DecodeOutcome<ReadingBatch>) {
    let fromSlice = outcome { () throws(DecodeError) in try ReadingBatch(json: offsetSlice(input)) }
    require(fromSlice == decoded, "array slice decodes differently: \(fromSlice) vs \(decoded)")
    let fromLazy = outcome { () throws(DecodeError) in try ReadingBatch(json: input.lazy.map { $0 }) }
    require(fromLazy == decoded, "non-contiguous collection decodes differently: \(fromLazy) vs \(decoded)")
}

/// The contract's rules applied to a parsed tree: nil when the body breaks any of them. Numbers are converted by
/// the standard library (`Double(String)` is correctly rounded), an oracle independent of the decoder's own
/// number code, which the tree parser shares.
func referenceDecode(_ tree: JSONValue) -> ReadingBatch? {
    guard let members = tree.objectValue, Set(members.map(\.key)) == ["seq", "readings"], members.count == 2,
        let seqText = tree["seq"]?.numberText, isIntegerLiteral(seqText), let seq = UInt64(seqText),
        seq >= 1, seq <= Batch.maxSeq, let elements = tree["readings"]?.arrayValue
    else { return nil }
    var plain: [Reading] = []
    for element in elements {
        guard let fields = element.objectValue, fields.count == 3,
            Set(fields.map(\.key)) == ["sensor", "ts", "value"],
            let sensor = element["sensor"]?.stringValue, Identifiers.isValidSensorName(sensor),
            let tsText = element["ts"]?.numberText, isIntegerLiteral(tsText), let ts = Int64(tsText),
            let valueText = element["value"]?.numberText, let value = Double(valueText), value.isFinite
        else { return nil }
        plain.append(Reading(sensor: sensor, ts: ts, value: value))
    }
    let entries = plain.map {
        SensorReadings(sensor: $0.sensor, exponent: nil, timestamps: [$0.ts], values: [$0.value])
    }
    return ReadingBatch(seq: seq, sensors: entries).groupedBySensor()
}

/// A JSON number written without fraction or exponent.
func isIntegerLiteral(_ text: String) -> Bool {
    !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
}

/// The streaming decoder and the reference built on the tree parser agree on acceptance, readings and syntax errors.
func checkAgainstTreeDecoder(_ input: UnsafeRawBufferPointer, _ decoded: DecodeOutcome<ReadingBatch>) {
    let tree = outcome { () throws(DecodeError) in try JSONValue.parse(input) }
    if case .success = tree {
        // RFC 8259 §8.1: a document is UTF-8; the standard library's validator is the oracle for the scanner's.
        require(String(validating: input, as: UTF8.self) != nil, "a document with invalid UTF-8 was accepted")
    }
    let reference: ReadingBatch? = if case .success(let value) = tree { referenceDecode(value) } else { nil }
    switch (decoded, reference) {
    case (.success(let batch), .some(let expected)):
        require(batch.isIdentical(to: expected), "decoders disagree on the readings: \(batch) vs \(expected)")
    case (.success(let batch), .none):
        require(false, "decoder accepts what the contract refuses (\(tree)): \(batch)")
    case (.failure(let error), .some):
        require(false, "decoder refuses a body the contract accepts: \(error)")
    case (.failure(let error), .none):
        if case .syntax = error.reason {
            guard case .failure(let treeError) = tree else {
                require(false, "syntax error \(error) but the tree parser accepts the document")
                return
            }
            require(
                treeError.reason == error.reason && treeError.offset == error.offset,
                "syntax errors differ: \(error) vs tree parser \(treeError)")
        }
    }
}

/// Every rule of the contract holds for a decoded batch.
func checkDecodedBatch(_ batch: ReadingBatch) {
    require(batch.seq >= 1 && batch.seq <= Batch.maxSeq, "seq \(batch.seq) out of range")
    require(Set(batch.sensors.map(\.sensor)).count == batch.sensors.count, "a sensor has two entries")
    for entry in batch.sensors {
        require(Identifiers.isValidSensorName(entry.sensor), "invalid sensor name \(entry.sensor)")
        require(entry.exponent == nil, "JSON has no exponent")
        require(entry.count > 0 && entry.timestamps.count == entry.values.count, "empty or ragged entry")
        require(entry.values.allSatisfy(\.isFinite), "non-finite value")
    }
    require(batch.readingCount <= DecodeLimits.standard.maxReadingsPerSeries, "reading limit exceeded")
}

/// decode(jsonBytes(batch)) is batch, bit for bit, and jsonBytes is a fixed point.
func checkRoundTrip(_ batch: ReadingBatch) {
    let body = batch.jsonBytes()
    let again = outcome { () throws(DecodeError) in try ReadingBatch(json: body) }
    guard case .success(let second) = again else {
        require(false, "the encoding of a decoded batch is refused: \(again)")
        return
    }
    require(second.isIdentical(to: batch), "JSON round trip changed the batch: \(second) vs \(batch)")
    require(second.jsonBytes() == body, "jsonBytes is not a fixed point")
}

/// The smallest exponent in −30…30 whose grid holds every value, if any (nil when none does).
func gridExponent(of values: [Double]) -> Int32? {
    for exponent in Series.exponentRange
    where values.allSatisfy({ DecimalGrid.mantissa(of: $0, exponent: exponent) != nil }) {
        return exponent
    }
    return nil
}

/// A batch whose sensors each have a decimal grid survives protobuf encoding and decoding.
func checkProtobufCrossCodec(_ batch: ReadingBatch) {
    var withExponents = batch
    for index in withExponents.sensors.indices {
        guard let exponent = gridExponent(of: withExponents.sensors[index].values) else { return }
        withExponents.sensors[index].exponent = exponent
    }
    // Descending timestamps or gaps over 2^32 ms have no compact form: the encoder refuses them, nothing to check.
    guard let compact = try? Batch(withExponents) else { return }
    let decoded = outcome { () throws(DecodeError) in try Batch(protobuf: compact.protobufBytes()) }
    guard case .success(let batchBack) = decoded else {
        require(false, "protobuf of a valid batch is refused: \(decoded)")
        return
    }
    // `==`, not bit identity: the compact form has integer mantissas, so a JSON `-0.0` comes back as `0.0`.
    require(ReadingBatch(batchBack) == withExponents, "protobuf round trip changed the readings")
}

/// A 3-reading limit refuses exactly the bigger batches; one byte over the size limit is refused.
func checkLimits(_ input: UnsafeRawBufferPointer, _ decoded: DecodeOutcome<ReadingBatch>) {
    let limit = 3
    let tight = outcome { () throws(DecodeError) in
        try ReadingBatch(json: input, limits: DecodeLimits(maxReadingsPerSeries: limit))
    }
    switch decoded {
    case .success(let batch) where batch.readingCount <= limit:
        require(tight == decoded, "a 3-reading limit changed a small batch: \(tight)")
    case .success:
        guard case .failure(let error) = tight, error.reason == .tooManyReadings(limit: limit) else {
            require(false, "a 3-reading limit did not refuse a bigger batch: \(tight)")
            return
        }
    case .failure:
        guard case .failure = tight else { return require(false, "a tighter limit accepted a refused body") }
    }
    guard input.count > 0 else { return }
    let short = DecodeLimits(maxMessageBytes: input.count - 1)
    let refused = outcome { () throws(DecodeError) in try ReadingBatch(json: input, limits: short) }
    guard case .failure(let error) = refused, error.reason == .messageTooLarge(limit: input.count - 1) else {
        return require(false, "size limit not enforced: \(refused)")
    }
}
