// Fuzzes the gRPC message deframer (5-byte prefix: flag, big-endian length) with properties that must hold for
// every byte stream, under a small message limit that inputs reach and under the standard 4 MiB one:
//
// - Arrival independence: the stream fed whole, one byte at a time, split in two at a random point and in random
//   pieces yields the same messages, the same error after the same messages, and the same verdict at END_STREAM.
// - No message over the limit is ever delivered, and what is buffered between chunks never exceeds prefix + limit.
// - Accounting after every chunk: bytes fed = delivered messages with their prefixes + bytes buffered.
// - Round trip: the delivered messages, framed again, are exactly the bytes of the stream that they came from.
// - A handler error stops delivery: it comes back as `.handler` after exactly the messages before it.

/// The two message limits: small, so fuzzed prefixes exceed it, and the server's default.
let messageLimits = [64, 4 << 20]

/// What a call sees from feeding one stream.
struct DeframeTranscript: Equatable {
    /// Messages delivered, in order.
    var messages: [[UInt8]] = []
    /// The deframing error that stopped the stream, if any.
    var error: GRPCDeframeError?
    /// What `finish()` said at END_STREAM (nil: the stream had already failed).
    var finish: GRPCDeframeError??
}

/// The handler's own error, thrown to check that it passes through untouched.
struct HandlerStop: Error, Equatable {}

/// One libFuzzer input: the bytes of one stream's DATA, and a header value.
func fuzzOneInput(_ input: UnsafeRawBufferPointer) {
    var random = FuzzRandom(seededBy: input, salt: 0x6772_7063)
    for limit in messageLimits {
        let count = input.count
        let reference = deframe(input, pieces: ArrivalPattern.whole(count), limit: limit)
        let patterns = [
            ArrivalPattern.byteByByte(count), ArrivalPattern.twoPieces(count, &random),
            ArrivalPattern.randomPieces(count, &random),
        ]
        for pieces in patterns {
            let transcript = deframe(input, pieces: pieces, limit: limit)
            require(
                transcript == reference, "pieces \(pieces.prefix(8)) give \(transcript) but whole gives \(reference)")
        }
        checkReframing(input, reference)
        checkHandlerError(input, reference, limit: limit, stopAt: random.below(4))
    }
    fuzzHeaderValues(input)
}

/// Feeds the stream in pieces of the given lengths, checking the limit and the accounting after every chunk.
func deframe(_ input: UnsafeRawBufferPointer, pieces: [Int], limit: Int) -> DeframeTranscript {
    var deframer = GRPCMessageDeframer(maxMessageBytes: limit)
    var transcript = DeframeTranscript()
    var fed = 0
    var delivered = 0  // bytes of delivered messages with their prefixes
    for length in pieces {
        let chunk = UnsafeRawBufferPointer(rebasing: input[fed..<(fed + length)])
        fed += length
        do {
            try deframer.process(chunk) { (message: UnsafeRawBufferPointer) in
                require(message.count <= limit, "delivered a \(message.count)-byte message over the \(limit) limit")
                transcript.messages.append(Array(message))
                delivered += GRPCMessageFramer.prefixLength + message.count
            }
        } catch {
            guard case .deframe(let deframeError) = error else { fatalError("handler error from a silent handler") }
            transcript.error = deframeError
            require(deframeError.status.code != .ok, "an error mapped to OK")
            return transcript
        }
        require(
            deframer.bufferedBytes <= GRPCMessageFramer.prefixLength + limit,
            "buffered \(deframer.bufferedBytes) bytes with a \(limit)-byte limit")
        require(
            fed == delivered + deframer.bufferedBytes,
            "fed \(fed) != delivered \(delivered) + buffered \(deframer.bufferedBytes)")
        require(deframer.messageCount == transcript.messages.count, "messageCount is wrong")
    }
    do {
        try deframer.finish()
        transcript.finish = .some(nil)
        require(deframer.bufferedBytes == 0, "finish accepted a stream with bytes buffered")
    } catch {
        transcript.finish = .some(error)
        require(deframer.bufferedBytes > 0, "finish refused a stream with nothing buffered")
        if case .truncatedMessage(let missing) = error {
            require(missing >= 1 && missing <= GRPCMessageFramer.prefixLength + limit, "missing \(missing) bytes")
        }
    }
    return transcript
}

/// Framing the delivered messages again reproduces the stream up to where they end; on a clean END_STREAM, all of it.
func checkReframing(_ input: UnsafeRawBufferPointer, _ transcript: DeframeTranscript) {
    var framed: [UInt8] = []
    for message in transcript.messages { GRPCMessageFramer.append(message, to: &framed) }
    require(framed.count <= input.count && framed.elementsEqual(input.prefix(framed.count)), "re-framing differs")
    if case .some(.none) = transcript.finish {
        require(framed.count == input.count, "clean end of stream but \(input.count - framed.count) bytes unaccounted")
    }
}

/// A handler that throws on message `stopAt` gets its own error back after exactly `stopAt + 1` deliveries.
func checkHandlerError(_ input: UnsafeRawBufferPointer, _ reference: DeframeTranscript, limit: Int, stopAt: Int) {
    guard stopAt < reference.messages.count else { return }
    var deframer = GRPCMessageDeframer(maxMessageBytes: limit)
    var calls = 0
    do {
        try deframer.process(input) { (_: UnsafeRawBufferPointer) throws(HandlerStop) in
            calls += 1
            if calls == stopAt + 1 { throw HandlerStop() }
        }
        require(false, "the handler's error was lost")
    } catch {
        guard case .handler = error else { return require(false, "handler error came back as \(error)") }
        require(calls == stopAt + 1, "delivery went on after the handler failed (\(calls) calls)")
    }
}
