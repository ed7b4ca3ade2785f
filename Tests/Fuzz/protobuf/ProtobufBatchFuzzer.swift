// Fuzzes the protobuf decoders (Batch, the gRPC ingest message, and Ack, which the simulator reads) with properties
// that must hold for every input:
//
// - Differential: a plain reference decoder written from the contract (ReferenceBatchDecoder.swift) accepts exactly
//   the inputs the decoder accepts, with the same batch.
// - The decode does not depend on where the bytes lie: a raw buffer, an array slice at a non-zero index and a
//   non-contiguous collection give the same batch or the same error.
// - An error points inside the input (offset within 0...count).
// - A decoded batch is valid (`Series.validate`), within the limits, and expands to finite values with
//   non-decreasing timestamps.
// - Round trip: encoding a decoded batch and decoding it again gives the same batch, and the encoding is a fixed
//   point of decode∘encode (canonical); `protobufSize` is its exact length. With `packingDeltas` the encoding
//   decodes to the same batch (through both decoders), is never larger and `protobufSize(packingDeltas:)` is exact.
// - Stream context (StreamContextFuzzer.swift): the input read as two messages of one Upload/Sync stream.
// - Cross-codec: the expanded readings, written as a REST JSON body and decoded, are the same readings (grouped by
//   sensor, as the JSON decoder groups them), value bits included.
// - Limits only refuse, never alter: with tighter limits a batch decodes the same or is refused for a limit; a
//   refused input stays refused; input one byte over `maxMessageBytes` is refused for its size.

/// Tighter limits than the standard ones, so fuzzed inputs reach them.
let tightLimits = DecodeLimits(maxMessageBytes: 1 << 20, maxSeriesPerBatch: 3, maxReadingsPerSeries: 5)

/// One libFuzzer input: one gRPC message body, decoded as a Batch and as an Ack, and read field by field.
func fuzzOneInput(_ input: UnsafeRawBufferPointer) {
    let decoded = outcome { () throws(DecodeError) in try Batch(protobuf: input) }
    checkPlacementIndependence(input, decoded)
    checkAgainstReference(input, decoded)
    switch decoded {
    case .failure(let error):
        require(error.offset >= 0 && error.offset <= input.count, "error offset \(error.offset) outside the input")
        require(!error.description.isEmpty, "empty error description")
    case .success(let batch):
        checkDecodedBatch(batch)
        checkRoundTrip(batch)
        checkJSONCrossCodec(batch)
    }
    checkLimits(input, decoded)
    fuzzStreamContext(input, plain: decoded)
    fuzzAck(input)
    fuzzFields(input)
}

/// Raw buffer, offset slice and non-contiguous collection decode alike.
func checkPlacementIndependence(_ input: UnsafeRawBufferPointer, _ decoded: DecodeOutcome<Batch>) {
    let fromSlice = outcome { () throws(DecodeError) in try Batch(protobuf: offsetSlice(input)) }
    require(fromSlice == decoded, "array slice decodes differently: \(fromSlice) vs \(decoded)")
    let fromLazy = outcome { () throws(DecodeError) in try Batch(protobuf: input.lazy.map { $0 }) }
    require(fromLazy == decoded, "non-contiguous collection decodes differently: \(fromLazy) vs \(decoded)")
}

/// The plain reference decoder accepts exactly what the decoder accepts, with the same values, under the standard
/// and the tight limits.
func checkAgainstReference(_ input: UnsafeRawBufferPointer, _ decoded: DecodeOutcome<Batch>) {
    let reference = ReferenceBatchDecoder.decode(Array(input))
    switch (decoded, reference) {
    case (.success(let batch), .some(let expected)):
        require(batch == expected, "decoders disagree: \(batch) vs reference \(expected)")
    case (.success(let batch), .none):
        require(false, "decoder accepts what the reference refuses: \(batch)")
    case (.failure(let error), .some(let expected)):
        require(false, "decoder refuses (\(error)) what the reference accepts: \(expected)")
    case (.failure, .none):
        break
    }
}

/// Every rule of the contract holds for a decoded batch.
func checkDecodedBatch(_ batch: Batch) {
    let limits = DecodeLimits.standard
    require(batch.seq >= 1 && batch.seq <= Batch.maxSeq, "seq \(batch.seq) out of range")
    require(batch.series.count <= limits.maxSeriesPerBatch, "\(batch.series.count) series over the limit")
    for (index, series) in batch.series.enumerated() {
        require(series.count <= limits.maxReadingsPerSeries, "series[\(index)] has \(series.count) readings")
        do { try series.validate() } catch { require(false, "decoded series[\(index)] is invalid: \(error)") }
    }
    let expanded = ReadingBatch(batch)
    require(expanded.readingCount == batch.readingCount, "expansion changed the reading count")
    for (entry, series) in zip(expanded.sensors, batch.series) {
        require(entry.sensor == series.sensor && entry.exponent == series.exponent, "expansion changed the sensor")
        require(entry.values.allSatisfy(\.isFinite), "expanded value not finite in \(series)")
        require(entry.timestamps.first.map { $0 == series.startMs } ?? true, "first timestamp is not start_ms")
        require(zip(entry.timestamps, entry.timestamps.dropFirst()).allSatisfy { $0 <= $1 }, "timestamps decrease")
    }
}

/// decode(encode(batch)) == batch, and encode(decode(encode(batch))) == encode(batch).
func checkRoundTrip(_ batch: Batch) {
    let encoded = batch.protobufBytes()
    require(encoded.count == batch.protobufSize, "protobufSize \(batch.protobufSize) != \(encoded.count) bytes")
    let again = outcome { () throws(DecodeError) in try Batch(protobuf: encoded) }
    require(again == .success(batch), "re-encoded batch decodes differently: \(again) vs \(batch)")
    if case .success(let second) = again {
        require(second.protobufBytes() == encoded, "encoding is not canonical")
    }
    let packed = batch.protobufBytes(packingDeltas: true)
    require(packed.count == batch.protobufSize(packingDeltas: true), "protobufSize(packingDeltas:) is wrong")
    require(packed.count <= encoded.count, "packing made the batch larger: \(packed.count) > \(encoded.count) bytes")
    let unpacked = outcome { () throws(DecodeError) in try Batch(protobuf: packed) }
    require(unpacked == .success(batch), "packed batch decodes differently: \(unpacked) vs \(batch)")
    // Valid packed runs of every width, which mutation alone seldom writes, for the reference's bit reader.
    require(ReferenceBatchDecoder.decode(packed) == batch, "reference decodes the packed batch differently")
}

/// The same readings survive the REST JSON body.
func checkJSONCrossCodec(_ batch: Batch) {
    let readings = ReadingBatch(batch)
    let body = readings.jsonBytes()
    guard readings.readingCount <= DecodeLimits.standard.maxReadingsPerSeries,
        body.count <= DecodeLimits.standard.maxMessageBytes
    else { return }
    let fromJSON = outcome { () throws(DecodeError) in try ReadingBatch(json: body) }
    guard case .success(let decoded) = fromJSON else {
        require(false, "JSON of a decoded batch is refused: \(fromJSON)")
        return
    }
    require(decoded.isIdentical(to: readings.groupedBySensor()), "JSON round trip changed the readings")
}

/// Tighter limits refuse or agree; an oversized message is refused before it is read.
func checkLimits(_ input: UnsafeRawBufferPointer, _ decoded: DecodeOutcome<Batch>) {
    let tight = outcome { () throws(DecodeError) in try Batch(protobuf: input, limits: tightLimits) }
    switch (decoded, tight) {
    case (.success(let batch), .success(let tightBatch)):
        require(batch == tightBatch, "tighter limits changed the batch")
    case (.success, .failure(let error)):
        require(error.reason.isLimit, "tighter limits refused a valid batch for \(error)")
    case (.failure, .success(let batch)):
        require(false, "tighter limits accepted what standard limits refuse: \(batch)")
    case (.failure, .failure):
        break
    }
    guard input.count > 0 else { return }
    var short = DecodeLimits.standard
    short.maxMessageBytes = input.count - 1
    let refused = outcome { () throws(DecodeError) in try Batch(protobuf: input, limits: short) }
    require(refused == .failure(DecodeError(.messageTooLarge(limit: input.count - 1))), "size limit not enforced")
}

/// The Ack decoder: never traps, and a decoded Ack round-trips canonically.
func fuzzAck(_ input: UnsafeRawBufferPointer) {
    let decoded = outcome { () throws(DecodeError) in try Ack(protobuf: input) }
    require(outcome { () throws(DecodeError) in try Ack(protobuf: offsetSlice(input)) } == decoded, "Ack placement")
    switch decoded {
    case .failure(let error):
        require(error.offset >= 0 && error.offset <= input.count, "Ack error offset \(error.offset) outside input")
    case .success(let ack):
        let encoded = ack.protobufBytes()
        require(encoded.count == ack.protobufSize, "Ack protobufSize is wrong")
        require(outcome { () throws(DecodeError) in try Ack(protobuf: encoded) } == .success(ack), "Ack round trip")
    }
}
