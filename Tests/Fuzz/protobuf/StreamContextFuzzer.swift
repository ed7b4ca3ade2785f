// Fuzzes stream context (StreamContext, StreamContextEncoder: Upload and Sync streams) with properties that must
// hold for every input. The plain decoder refuses context, so these are the only checks that reach `resolve`.
//
// The input is cut into two messages of one stream in two ways, each decoded in order through one context:
// - by a prefix: a varint L (at most 3 bytes), then the first message (the next L bytes, fewer when the input
//   ends), then the second (the rest). A seed for messages m1, m2 is varint(len(m1)) + m1 + m2, and mutating the
//   prefix moves the cut, so the fuzzer explores both the messages and where one ends;
// - at the end of one of the input's top-level fields, chosen by a hash of the input: a valid message cut there
//   gives two valid messages (protobuf messages concatenate), the second usually without seq (so it continues):
//   every plain seed is a stream too, without a prefix that garbles it.
// The whole input is also decoded alone as a stream's first message, and a batch it decoded gets a structured
// follower (StreamFollower.swift).
//
// - A plain batch means the same on a stream: whatever `Batch(protobuf:)` accepts, a new stream's context decodes
//   to the same batch (context only adds meaning to what plain decoding refuses).
// - Placement: the raw buffer and an array copy of a message decode alike through copies of one context.
// - What a stream accepts is a plain, valid batch: seq 1…2^63−1, every series named, ref 0, `Series.validate`
//   passes, within the limits, and its plain encoding decodes (plainly) to it; packed too (`checkRoundTrip`).
// - An error points inside its message (offset within 0...count) and has a description.
// - Round trip: the resolved batches, rewritten by a new StreamContextEncoder and encoded (varint or packed
//   deltas), decode through a new StreamContext to the same batches; a rewritten batch that uses context is refused
//   by the plain decoder, and one that does not decodes plainly to itself.
// - Limits only refuse, never alter: with tighter limits (and a context allowing as few sensors as series) each
//   message resolves the same or is refused for a limit.

/// One libFuzzer input read as stream messages; see the properties above.
func fuzzStreamContext(_ input: UnsafeRawBufferPointer, plain: DecodeOutcome<Batch>) {
    checkPlainMeansTheSameOnAStream(input, plain)
    let resolved = checkStream(streamMessages(input))
    if let batch = (try? plain.get()) ?? resolved.first {
        checkDerivedFollower(of: batch, input)
    }
    let ends = fieldEnds(input)
    if !ends.isEmpty {
        var random = FuzzRandom(seededBy: input, salt: 0x5354_5245_414D)
        let cut = ends[random.below(ends.count)]
        _ = checkStream([UnsafeRawBufferPointer(rebasing: input[..<cut]),
                         UnsafeRawBufferPointer(rebasing: input[cut...])])
    }
}

/// Every stream property for one cut of the input; the batches the stream resolved.
func checkStream(_ messages: [UnsafeRawBufferPointer]) -> [Batch] {
    let resolved = decodeStream(messages, limits: .standard)
    checkTighterLimits(messages, resolved)
    let batches = resolved.compactMap { try? $0.get() }
    for batch in batches {
        checkResolvedBatch(batch)
    }
    checkStreamRoundTrip(batches, packingDeltas: false)
    checkStreamRoundTrip(batches, packingDeltas: true)
    return batches
}

/// The two messages of `input`: a varint length of at most 3 bytes, the first message, then the rest.
func streamMessages(_ input: UnsafeRawBufferPointer) -> [UnsafeRawBufferPointer] {
    var length = 0
    var position = 0
    for shift in [0, 7, 14] where position < input.count {
        let byte = input[position]
        position += 1
        length |= Int(byte & 0x7F) << shift
        if byte < 0x80 { break }
    }
    let cut = min(position + length, input.count)
    return [UnsafeRawBufferPointer(rebasing: input[position..<cut]), UnsafeRawBufferPointer(rebasing: input[cut...])]
}

/// Offsets where the input's top-level fields end, up to the first malformed one: where two concatenated
/// messages may meet.
func fieldEnds(_ input: UnsafeRawBufferPointer) -> [Int] {
    var reader = ProtobufReader(input)
    var ends: [Int] = []
    do {
        while let (field, wireType) = try reader.readTag() {
            try reader.skip(wireType, field: field)
            ends.append(reader.position)
        }
    } catch {}
    return ends
}

/// The messages decoded in order through one context, up to and including the first refused one (a refused batch
/// ends the stream, so nothing after it is read). With tight limits the context also allows as few sensors as the
/// limits allow series, so a stream reaches that limit too.
func decodeStream(_ messages: [UnsafeRawBufferPointer], limits: DecodeLimits) -> [DecodeOutcome<Batch>] {
    var context = StreamContext(maxEntries: min(limits.maxSeriesPerBatch, DecodeLimits.standard.maxSeriesPerBatch))
    var outcomes: [DecodeOutcome<Batch>] = []
    for message in messages {
        var copy = context
        let decoded = outcome { () throws(DecodeError) in try context.decode(message, limits: limits) }
        let fromArray = outcome { () throws(DecodeError) in try copy.decode(Array(message), limits: limits) }
        require(fromArray == decoded, "stream message decodes differently from an array: \(fromArray) vs \(decoded)")
        outcomes.append(decoded)
        guard case .failure(let error) = decoded else { continue }
        require(error.offset >= 0 && error.offset <= message.count,
                "stream error offset \(error.offset) outside its message of \(message.count) bytes")
        require(!error.description.isEmpty, "empty stream error description")
        break
    }
    return outcomes
}

/// What the plain decoder accepts, a new stream's first message gives the same.
func checkPlainMeansTheSameOnAStream(_ input: UnsafeRawBufferPointer, _ plain: DecodeOutcome<Batch>) {
    guard case .success(let batch) = plain else { return }
    var context = StreamContext()
    let onStream = outcome { () throws(DecodeError) in try context.decode(input) }
    require(onStream == plain, "a plain batch resolves differently on a new stream: \(onStream) vs \(batch)")
}

/// Tighter limits resolve each message the same or refuse it for a limit; what standard limits refuse stays refused.
func checkTighterLimits(_ messages: [UnsafeRawBufferPointer], _ standard: [DecodeOutcome<Batch>]) {
    let tight = decodeStream(messages, limits: tightLimits)
    for (wide, narrow) in zip(standard, tight) {
        switch (wide, narrow) {
        case (.success(let batch), .success(let tightBatch)):
            require(batch == tightBatch, "tighter limits changed a resolved batch")
        case (.success, .failure(let error)):
            require(error.reason.isLimit, "tighter limits refused a resolved batch for \(error)")
        case (.failure, .success(let batch)):
            require(false, "tighter limits resolved what standard limits refuse: \(batch)")
        case (.failure, .failure):
            break
        }
    }
}

/// A resolved batch is a plain, valid batch, and round-trips through the plain decoder.
func checkResolvedBatch(_ batch: Batch) {
    for (index, series) in batch.series.enumerated() {
        require(!series.sensor.isEmpty && series.ref == 0, "resolved series[\(index)] keeps context: \(series)")
    }
    checkDecodedBatch(batch)
    checkRoundTrip(batch)
}

/// The resolved batches, rewritten with context by a new encoder, resolve to themselves on a new stream.
func checkStreamRoundTrip(_ batches: [Batch], packingDeltas: Bool) {
    var encoder = StreamContextEncoder()
    var context = StreamContext()
    for batch in batches {
        let compact = encoder.encode(batch)
        let bytes = compact.protobufBytes(packingDeltas: packingDeltas)
        require(bytes.count == compact.protobufSize(packingDeltas: packingDeltas), "protobufSize of a rewritten batch")
        let again = outcome { () throws(DecodeError) in try context.decode(bytes) }
        require(again == .success(batch),
                "rewritten batch (packing \(packingDeltas)) resolves differently: \(again) vs \(batch) via \(compact)")
        guard case .success = again else { return }
        let usesContext = compact.seq == 0 || compact.series.contains { $0.continuesEntry || $0.ref != 0 }
        let plain = outcome { () throws(DecodeError) in try Batch(protobuf: bytes) }
        if usesContext {
            require((try? plain.get()) == nil, "plain decoder accepts stream context: \(compact)")
        } else {
            require(plain == .success(batch), "a rewritten batch without context decodes plainly as \(plain)")
        }
    }
}
