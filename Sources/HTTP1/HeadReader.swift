/// Reads the lines of a message head (start line, then field lines, then the blank line) or of a trailer section,
/// enforcing the line-level rules and limits shared by requests and responses.
///
/// The reader stores each line's content (without CRLF) back to back in one buffer and yields one finished piece
/// per call: the start line, a field (already checked for syntax), or the end of the section. Interpreting the start
/// line and the fields is the caller's job. Rules enforced here: CRLF line endings only (bare CR or LF → 400),
/// empty lines before a request line skipped up to a limit, start line ≤ `maxStartLineBytes` (414 for a request),
/// field lines (with their CRLFs) ≤ `maxHeaderSectionBytes` and ≤ `maxHeaderFields` (431), and field-line syntax
/// (RFC 9112 §5): a token name, a colon right after it, no obs-fold, no control characters in the value.
struct HeadReader: Sendable {
    /// Which section is being read: it decides whether a start line comes first and how errors are worded.
    enum Kind: Sendable {
        /// A request head: empty lines may precede the request line.
        case request
        /// A response head: the status line comes first.
        case response
        /// A chunked body's trailer section: field lines only.
        case trailers
    }

    /// One finished piece of the section.
    enum Output {
        /// The start line is complete; its content is `storage[range]`.
        case startLine(Range<Int>)
        /// A field line is complete and syntactically valid.
        case field(HTTPHeaders.FieldRange)
        /// The blank line ending the section was read.
        case complete
        /// Every byte given was taken; the section is not complete yet.
        case needMoreData
        /// The section is malformed or over a limit.
        case failed(HTTPParseError)
    }

    /// Which section this reader reads.
    let kind: Kind
    /// Line contents, back to back, without CRLFs; field ranges index into it.
    private(set) var storage: [UInt8] = []
    /// The fields read so far.
    private(set) var ranges: [HTTPHeaders.FieldRange] = []
    /// Where the line being read starts in `storage`.
    private var lineStart = 0
    /// Whether the start line has been read (always true for trailers).
    private var hasStartLine: Bool
    /// Bytes of field lines read so far, CRLFs included, as `maxHeaderSectionBytes` counts them.
    private var sectionBytes = 0
    /// Empty lines skipped before the request line.
    private var emptyLinesSkipped = 0
    /// Finds line ends.
    private var scanner = LineScanner()

    /// A reader at the start of a section.
    init(kind: Kind) {
        self.kind = kind
        self.hasStartLine = kind == .trailers
    }

    /// The fields read, with their storage; the reader is left empty.
    mutating func takeHeaders() -> HTTPHeaders {
        let headers = HTTPHeaders(storage: storage, ranges: ranges)
        self = HeadReader(kind: kind)
        return headers
    }

    /// Takes bytes from `input[start...]` until the next piece is finished.
    mutating func read(
        _ input: UnsafeRawBufferPointer, from start: Int, limits: HTTPLimits
    ) -> (output: Output, next: Int) {
        var index = start
        if storage.capacity == 0 {
            // One allocation fits a typical head (a few hundred bytes, a dozen fields) instead of regrowing.
            storage.reserveCapacity(512)
            ranges.reserveCapacity(16)
        }
        while true {
            let maxLength =
                hasStartLine ? max(0, limits.maxHeaderSectionBytes - sectionBytes - 2) : limits.maxStartLineBytes
            let lineLength = storage.count - lineStart
            let (outcome, next) = scanner.scan(
                input, from: index, appendingTo: &storage, lineLength: lineLength, maxLength: maxLength)
            index = next
            switch outcome {
            case .incomplete:
                return (.needMoreData, index)
            case .bareCR:
                return (.failed(HTTPParseError(.badRequest, "bare CR (CR not followed by LF)")), index)
            case .bareLF:
                return (.failed(HTTPParseError(.badRequest, "bare LF (line ending without CR)")), index)
            case .tooLong:
                return (.failed(tooLongError(limits: limits)), index)
            case .complete:
                if let output = finishLine(limits: limits) { return (output, index) }
            }
        }
    }

    /// Handles a complete line; nil when the line was an empty line to skip.
    private mutating func finishLine(limits: HTTPLimits) -> Output? {
        let lineEnd = storage.count
        defer { lineStart = storage.count }
        if !hasStartLine {
            if lineEnd == lineStart {
                guard kind == .request else {
                    return .failed(HTTPParseError(.badRequest, "empty line where the status line should be"))
                }
                emptyLinesSkipped += 1
                guard emptyLinesSkipped <= limits.maxLeadingEmptyLines else {
                    return .failed(HTTPParseError(.badRequest, "too many empty lines before the request line"))
                }
                return nil
            }
            hasStartLine = true
            return .startLine(lineStart..<lineEnd)
        }
        if lineEnd == lineStart { return .complete }
        sectionBytes += lineEnd - lineStart + 2
        guard ranges.count < limits.maxHeaderFields else {
            let message = "more than \(limits.maxHeaderFields) \(fieldsNoun)"
            return .failed(HTTPParseError(.requestHeaderFieldsTooLarge, message))
        }
        switch HeadReader.parseFieldLine(storage, lineStart..<lineEnd) {
        case .success(let range):
            ranges.append(range)
            return .field(range)
        case .failure(let error):
            return .failed(error)
        }
    }

    /// The refusal for a line past its bound.
    private func tooLongError(limits: HTTPLimits) -> HTTPParseError {
        switch (kind, hasStartLine) {
        case (.request, false):
            return HTTPParseError(.uriTooLong, "request line longer than \(limits.maxStartLineBytes) bytes")
        case (.response, false):
            return HTTPParseError(.badRequest, "status line longer than \(limits.maxStartLineBytes) bytes")
        default:
            let section = kind == .trailers ? "trailer section" : "header section"
            return HTTPParseError(
                .requestHeaderFieldsTooLarge, "\(section) larger than \(limits.maxHeaderSectionBytes) bytes")
        }
    }

    /// "header fields" or "trailer fields".
    private var fieldsNoun: String { kind == .trailers ? "trailer fields" : "header fields" }

    /// Checks one field line, `field-name ":" OWS field-value OWS`, and returns where its name and value are.
    static func parseFieldLine(
        _ storage: [UInt8], _ line: Range<Int>
    ) -> Result<HTTPHeaders.FieldRange, HTTPParseError> {
        storage.withUnsafeBufferPointer { bytes in
            if bytes[line.lowerBound].isWhitespace {
                return .failure(HTTPParseError(.badRequest, "obs-fold (field line starting with whitespace)"))
            }
            var index = line.lowerBound
            while index < line.upperBound, bytes[index].isTokenChar { index += 1 }
            let nameEnd = index
            guard index < line.upperBound, bytes[index] == ASCII.colon else {
                while index < line.upperBound, bytes[index].isWhitespace { index += 1 }
                if nameEnd > line.lowerBound, index > nameEnd, index < line.upperBound, bytes[index] == ASCII.colon {
                    return .failure(HTTPParseError(.badRequest, "whitespace between field name and colon"))
                }
                if nameEnd == line.upperBound {
                    return .failure(HTTPParseError(.badRequest, "field line without a colon"))
                }
                return .failure(HTTPParseError(.badRequest, "invalid character in field name"))
            }
            guard nameEnd > line.lowerBound else {
                return .failure(HTTPParseError(.badRequest, "empty field name"))
            }
            var valueStart = nameEnd + 1
            while valueStart < line.upperBound, bytes[valueStart].isWhitespace { valueStart += 1 }
            var valueEnd = line.upperBound
            while valueEnd > valueStart, bytes[valueEnd - 1].isWhitespace { valueEnd -= 1 }
            for position in valueStart..<valueEnd where !bytes[position].isFieldValueChar {
                return .failure(HTTPParseError(.badRequest, "invalid character in field value"))
            }
            return .success(
                HTTPHeaders.FieldRange(
                    nameStart: line.lowerBound, nameEnd: nameEnd, valueStart: valueStart, valueEnd: valueEnd))
        }
    }
}
