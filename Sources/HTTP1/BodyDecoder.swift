/// Decodes one message body framed by Content-Length, by chunked transfer coding, or by the connection's end, and
/// counts every byte it takes.
///
/// Payload is returned as ranges of the caller's input, never copied here, so the parser decides whether to
/// accumulate or stream it. Every byte taken is counted in `bytes.body`; bytes that are not payload (chunk-size
/// lines, the CRLF after each chunk's data, the last chunk, trailers) also in `bytes.chunkFraming`. The body limit
/// covers the whole encoding: for Content-Length the parser refuses an oversized length before the body starts;
/// for chunked bodies a chunk is refused as soon as its size line shows it would pass the limit, and framing is
/// checked as it is taken; for bodies delimited by close, at the first byte past the limit.
struct BodyDecoder: Sendable {
    /// What one decoding step produced.
    enum Output {
        /// Payload bytes: `input[range]`.
        case data(Range<Int>)
        /// Every byte given was taken and the body is not complete.
        case needMoreData
        /// The body's last byte has been taken.
        case complete
        /// The framing is malformed or over a limit.
        case failed(HTTPParseError)
    }

    /// Where in the body the decoder is.
    private enum Phase: Equatable {
        case fixedLength, untilClose, chunkSizeLine, chunkData, chunkDataCR, chunkDataLF, trailers, complete
    }

    /// Body and framing bytes taken so far (`head` stays 0).
    private(set) var bytes = HTTPMessageBytes()
    /// Where in the body the decoder is.
    private var phase: Phase
    /// Payload bytes left in the fixed-length body or in the current chunk.
    private var remaining = 0
    /// The limits in force.
    private let limits: HTTPLimits
    /// The chunk-size line being read.
    private var chunkLine: [UInt8] = []
    /// Finds the end of chunk-size lines.
    private var scanner = LineScanner()
    /// Reads the trailer section after the last chunk.
    private var trailerReader = HeadReader(kind: .trailers)

    /// A decoder for a body with this framing.
    init(framing: HTTPBodyFraming, limits: HTTPLimits) {
        self.limits = limits
        switch framing {
        case .noBody:
            phase = .complete
        case .contentLength(let length):
            phase = length == 0 ? .complete : .fixedLength
            remaining = length
        case .chunked:
            phase = .chunkSizeLine
        case .untilClose:
            phase = .untilClose
        }
    }

    /// Whether the body's last byte has been taken.
    var isComplete: Bool { phase == .complete }

    /// Whether the body ends when the connection does.
    var isUntilClose: Bool { phase == .untilClose }

    /// Bytes held between calls: the partial chunk-size line and the trailer section read so far (bounded by
    /// `maxChunkLineBytes` and `maxHeaderSectionBytes`; the fuzz harness checks it).
    var bufferedBytes: Int { chunkLine.count + trailerReader.storage.count }

    /// The trailer fields read after the last chunk; the decoder's copy is emptied.
    mutating func takeTrailers() -> HTTPHeaders { trailerReader.takeHeaders() }

    /// The peer closed the connection: completes a body delimited by close.
    mutating func finishAtEndOfInput() -> Output {
        switch phase {
        case .complete: return .complete
        case .untilClose:
            phase = .complete
            return .complete
        default:
            return .failed(HTTPParseError(.badRequest, "connection closed before the body was complete"))
        }
    }

    /// Takes bytes from `input[start...]` until payload is found, the body completes, more input is needed, or
    /// the framing fails. Returns the index just past the last byte taken.
    mutating func decode(_ input: UnsafeRawBufferPointer, from start: Int) -> (output: Output, next: Int) {
        var index = start
        while true {
            switch phase {
            case .complete:
                return (.complete, index)
            case .fixedLength, .chunkData:
                let count = min(remaining, input.count - index)
                guard count > 0 else { return (.needMoreData, index) }
                remaining -= count
                bytes.body += count
                if remaining == 0 { phase = phase == .fixedLength ? .complete : .chunkDataCR }
                return (.data(index..<index + count), index + count)
            case .untilClose:
                let count = input.count - index
                guard count > 0 else { return (.needMoreData, index) }
                guard count <= limits.maxBodyBytes - bytes.body else {
                    let taken = limits.maxBodyBytes - bytes.body + 1
                    bytes.body += taken
                    return (.failed(bodyTooLarge("body")), index + taken)
                }
                bytes.body += count
                return (.data(index..<input.count), input.count)
            case .chunkSizeLine:
                let (outcome, next) = scanner.scan(
                    withinBudget(input, from: index), from: index, appendingTo: &chunkLine, lineLength: chunkLine.count,
                    maxLength: limits.maxChunkLineBytes)
                index = takeFraming(next - index, from: index)
                if let error = overLimitError(outcome: outcome) { return (.failed(error), index) }
                guard outcome == .complete else { return (.needMoreData, index) }
                switch BodyDecoder.parseChunkSizeLine(chunkLine) {
                case .failure(let error):
                    return (.failed(error), index)
                case .success(let size):
                    chunkLine.removeAll(keepingCapacity: true)
                    if size == 0 {
                        phase = .trailers
                    } else {
                        guard size <= limits.maxBodyBytes - bytes.body else {
                            return (.failed(bodyTooLarge("chunked body")), index)
                        }
                        remaining = size
                        phase = .chunkData
                    }
                }
            case .chunkDataCR, .chunkDataLF:
                guard index < input.count else { return (.needMoreData, index) }
                let expected = phase == .chunkDataCR ? ASCII.cr : ASCII.lf
                let byte = input[index]
                index = takeFraming(1, from: index)
                guard byte == expected else {
                    return (.failed(HTTPParseError(.badRequest, "chunk data not followed by CRLF")), index)
                }
                if bytes.body > limits.maxBodyBytes { return (.failed(bodyTooLarge("chunked body")), index) }
                phase = phase == .chunkDataCR ? .chunkDataLF : .chunkSizeLine
            case .trailers:
                let (output, next) = trailerReader.read(withinBudget(input, from: index), from: index, limits: limits)
                index = takeFraming(next - index, from: index)
                if bytes.body > limits.maxBodyBytes { return (.failed(bodyTooLarge("chunked body")), index) }
                switch output {
                case .needMoreData: return (.needMoreData, index)
                case .failed(let error): return (.failed(error), index)
                case .field, .startLine: continue
                case .complete:
                    phase = .complete
                    return (.complete, index)
                }
            }
        }
    }

    /// The input cut to one byte past the body limit, so a framing read that runs over the limit stops at that
    /// byte, wherever the input was split: the refusal then consumes the same bytes however they arrived.
    private func withinBudget(_ input: UnsafeRawBufferPointer, from index: Int) -> UnsafeRawBufferPointer {
        let budget = limits.maxBodyBytes - bytes.body
        return budget < input.count - index ? UnsafeRawBufferPointer(rebasing: input[..<(index + budget + 1)]) : input
    }

    /// Counts `count` framing bytes taken at `index`; returns the index past them.
    private mutating func takeFraming(_ count: Int, from index: Int) -> Int {
        bytes.body += count
        bytes.chunkFraming += count
        return index + count
    }

    /// The refusal a chunk-size line scan calls for, if any: the body limit first, then the line's own faults.
    private func overLimitError(outcome: LineScanner.Outcome) -> HTTPParseError? {
        if bytes.body > limits.maxBodyBytes { return bodyTooLarge("chunked body") }
        switch outcome {
        case .complete, .incomplete:
            return nil
        case .tooLong:
            return HTTPParseError(.badRequest, "chunk-size line longer than \(limits.maxChunkLineBytes) bytes")
        case .bareCR:
            return HTTPParseError(.badRequest, "bare CR (CR not followed by LF)")
        case .bareLF:
            return HTTPParseError(.badRequest, "bare LF (line ending without CR)")
        }
    }

    /// 413 naming what was too large.
    private func bodyTooLarge(_ what: String) -> HTTPParseError {
        HTTPParseError(.contentTooLarge, "\(what) larger than \(limits.maxBodyBytes) bytes")
    }
}
