extension HTTPRequestParser {
    /// Where the pieces of a parsed request line lie in the head reader's storage.
    struct RequestLine: Sendable {
        /// The method token.
        var method: Range<Int>
        /// The request-target.
        var target: Range<Int>
        /// The parsed version.
        var version: HTTPVersion
    }

    /// Takes head bytes until the head is complete, the input ends, or the head is refused.
    mutating func parseHead(_ input: UnsafeRawBufferPointer) -> Step {
        var index = 0
        while true {
            let (output, next) = headReader.read(input, from: index, limits: limits)
            messageBytes.head += next - index
            index = next
            switch output {
            case .needMoreData:
                return Step(.needMoreData, consumed: index)
            case .failed(let error):
                return fail(error, consumed: index)
            case .startLine(let range):
                switch HTTPRequestParser.parseRequestLine(headReader.storage, range) {
                case .success(let line): requestLine = line
                case .failure(let error): return fail(error, consumed: index)
                }
            case .field(let range):
                let name = headReader.storage[range.nameStart..<range.nameEnd]
                let value = headReader.storage[range.valueStart..<range.valueEnd]
                let version = requestLine?.version ?? .http1_1
                if let error = framingFields.take(name: name, value: value)
                    ?? requestFields.take(name: name, value: value, version: version)
                {
                    return fail(error, consumed: index)
                }
            case .complete:
                return finishHead(consumed: index)
            }
        }
    }

    /// Decides the framing from the whole head, in this order: missing Host (400), Content-Length with
    /// Transfer-Encoding (400), the transfer codings (501 or 400), Content-Length over the body limit (413).
    private mutating func finishHead(consumed: Int) -> Step {
        guard let line = requestLine else { preconditionFailure("head complete without a request line") }
        if line.version.isAtLeastHTTP1_1, requestFields.hostCount == 0 {
            return fail(HTTPParseError(.badRequest, "missing Host"), consumed: consumed)
        }
        let framing: HTTPBodyFraming
        if framingFields.hasTransferEncoding {
            if framingFields.contentLength != nil {
                let error = HTTPParseError(.badRequest, "Content-Length and Transfer-Encoding together")
                return fail(error, consumed: consumed)
            }
            if let error = framingFields.transferCodingError() { return fail(error, consumed: consumed) }
            framing = .chunked
        } else if let length = framingFields.contentLength {
            guard length <= limits.maxBodyBytes else {
                let message = "Content-Length \(length) larger than the \(limits.maxBodyBytes)-byte body limit"
                var error = HTTPParseError(.contentTooLarge, message)
                error.requestHead = makeHead(line, framing: .contentLength(length))  // the server may answer in kind
                return fail(error, consumed: consumed)
            }
            framing = .contentLength(length)
        } else {
            framing = .noBody
        }
        let head = makeHead(line, framing: framing)
        requestLine = nil
        framingFields = FramingFields()
        requestFields = RequestFields()
        bodyDecoder = BodyDecoder(framing: framing, limits: limits)
        if bodyDelivery == .accumulated, case .contentLength(let length) = framing {
            bodyBuffer.reserveCapacity(length)
        }
        phase = .body
        return Step(.head(head), consumed: consumed)
    }

    /// The head of the request whose head was just read, with `framing` (takes its fields from the head reader).
    private mutating func makeHead(_ line: RequestLine, framing: HTTPBodyFraming) -> HTTPRequestHead {
        // A chunked HTTP/1.0 request has faulty framing for 1.0 peers: handle it, then close (RFC 9112 §6.1).
        isKeepAlive =
            framingFields.isPersistent(version: line.version)
            && !(framing == .chunked && !line.version.isAtLeastHTTP1_1)
        let hasBody = framing == .chunked || (framingFields.contentLength ?? 0) > 0
        let storage = headReader.storage
        return HTTPRequestHead(
            method: String(decoding: storage[line.method], as: UTF8.self),
            target: String(decoding: storage[line.target], as: UTF8.self),
            version: line.version,
            headers: headReader.takeHeaders(),
            framing: framing,
            isKeepAlive: isKeepAlive,
            expectsContinue: requestFields.hasExpectContinue && hasBody,
            byteCount: messageBytes.head)
    }

    /// Parses `method SP request-target SP HTTP-version` (RFC 9112 §3), single spaces only.
    static func parseRequestLine(_ storage: [UInt8], _ line: Range<Int>) -> Result<RequestLine, HTTPParseError> {
        var index = line.lowerBound
        while index < line.upperBound, storage[index].isTokenChar { index += 1 }
        let method = line.lowerBound..<index
        guard index < line.upperBound, storage[index] == ASCII.space, !method.isEmpty else {
            let isMalformed = index == line.upperBound || storage[index] == ASCII.space
            return .failure(HTTPParseError(.badRequest, isMalformed ? "malformed request line" : "invalid method"))
        }
        index += 1
        let targetStart = index
        while index < line.upperBound, storage[index] != ASCII.space {
            guard storage[index].isVisibleASCII else {
                return .failure(HTTPParseError(.badRequest, "invalid character in request target"))
            }
            index += 1
        }
        let target = targetStart..<index
        guard !target.isEmpty, index < line.upperBound else {
            return .failure(HTTPParseError(.badRequest, "malformed request line"))
        }
        switch parseVersion(storage[(index + 1)..<line.upperBound]) {
        case .success(let version): return .success(RequestLine(method: method, target: target, version: version))
        case .failure(let error): return .failure(error)
        }
    }

    /// Parses `HTTP/` DIGIT `.` DIGIT; any major version but 1 is refused with 505.
    static func parseVersion(_ bytes: ArraySlice<UInt8>) -> Result<HTTPVersion, HTTPParseError> {
        let prefix: [UInt8] = Array("HTTP/".utf8)
        let start = bytes.startIndex
        guard bytes.count == 8, bytes.prefix(5).elementsEqual(prefix), bytes[start + 5].isDigit,
            bytes[start + 6] == ASCII.dot, bytes[start + 7].isDigit
        else { return .failure(HTTPParseError(.badRequest, "malformed HTTP version")) }
        let version = HTTPVersion(
            major: Int(bytes[start + 5] &- ASCII.zero), minor: Int(bytes[start + 7] &- ASCII.zero))
        guard version.major == 1 else {
            return .failure(HTTPParseError(.httpVersionNotSupported, "\(version) not supported"))
        }
        return .success(version)
    }
}
