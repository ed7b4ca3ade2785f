extension HTTPResponseParser {
    /// Takes head bytes until a head is complete, the input ends, or the head is refused.
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
                switch HTTPResponseParser.parseStatusLine(headReader.storage, range) {
                case .success(let line): statusLine = line
                case .failure(let error): return fail(error, consumed: index)
                }
            case .field(let range):
                let name = headReader.storage[range.nameStart..<range.nameEnd]
                let value = headReader.storage[range.valueStart..<range.valueEnd]
                if let error = framingFields.take(name: name, value: value) { return fail(error, consumed: index) }
            case .complete:
                return finishHead(consumed: index)
            }
        }
    }

    /// Decides the framing (RFC 9112 §6.3): no body for 1xx, 204, 304 and answers to HEAD; otherwise
    /// Transfer-Encoding (chunked only; with Content-Length it is refused), then Content-Length (over the body
    /// limit: refused), then the connection's end.
    private mutating func finishHead(consumed: Int) -> Step {
        guard let (version, status) = statusLine else { preconditionFailure("head complete without a status line") }
        let isInterim = status.isInformational && status.code != 101
        let isAnswerToHEAD = !isInterim && !pendingHEADRequests.isEmpty && pendingHEADRequests.removeFirst()
        let framing: HTTPBodyFraming
        if status.forbidsBody || isAnswerToHEAD {
            framing = .noBody
        } else if framingFields.hasTransferEncoding {
            if framingFields.contentLength != nil {
                let error = HTTPParseError(.badRequest, "Content-Length and Transfer-Encoding together")
                return fail(error, consumed: consumed)
            }
            if let error = framingFields.transferCodingError() { return fail(error, consumed: consumed) }
            framing = .chunked
        } else if let length = framingFields.contentLength {
            guard length <= limits.maxBodyBytes else {
                let message = "Content-Length \(length) larger than the \(limits.maxBodyBytes)-byte body limit"
                return fail(HTTPParseError(.contentTooLarge, message), consumed: consumed)
            }
            framing = .contentLength(length)
        } else {
            framing = .untilClose
        }
        isKeepAlive = framingFields.isPersistent(version: version) && framing != .untilClose && status.code != 101
        let head = HTTPResponseHead(
            version: version, status: status, headers: headReader.takeHeaders(), framing: framing,
            isKeepAlive: isKeepAlive, byteCount: messageBytes.head)
        statusLine = nil
        framingFields = FramingFields()
        if isInterim {
            messageBytes = HTTPMessageBytes()
            isAwaitingFinalResponse = true
            return Step(.interim(head), consumed: consumed)
        }
        isAwaitingFinalResponse = false
        bodyDecoder = BodyDecoder(framing: framing, limits: limits)
        if bodyDelivery == .accumulated, case .contentLength(let length) = framing {
            bodyBuffer.reserveCapacity(length)
        }
        phase = .body
        return Step(.head(head), consumed: consumed)
    }

    /// Parses `HTTP-version SP status-code SP [ reason-phrase ]` (RFC 9112 §4); a missing final SP is tolerated.
    static func parseStatusLine(
        _ storage: [UInt8], _ line: Range<Int>
    ) -> Result<(version: HTTPVersion, status: HTTPStatus), HTTPParseError> {
        let malformed = HTTPParseError(.badRequest, "malformed status line")
        guard line.count >= 12, storage[line.lowerBound + 8] == ASCII.space else { return .failure(malformed) }
        let version: HTTPVersion
        switch HTTPRequestParser.parseVersion(storage[line.lowerBound..<(line.lowerBound + 8)]) {
        case .success(let parsed): version = parsed
        case .failure(let error): return .failure(error)
        }
        let codeStart = line.lowerBound + 9
        var code = 0
        for position in codeStart..<(codeStart + 3) {
            guard storage[position].isDigit else { return .failure(malformed) }
            code = code * 10 + Int(storage[position] &- ASCII.zero)
        }
        guard (100...599).contains(code) else { return .failure(HTTPParseError(.badRequest, "invalid status code")) }
        let reasonStart = codeStart + 3
        guard reasonStart == line.upperBound || storage[reasonStart] == ASCII.space else { return .failure(malformed) }
        let reason = storage[min(reasonStart + 1, line.upperBound)..<line.upperBound]
        guard reason.allSatisfy(\.isFieldValueChar) else {
            return .failure(HTTPParseError(.badRequest, "invalid character in reason phrase"))
        }
        return .success((version, HTTPStatus(code: code, reasonPhrase: String(decoding: reason, as: UTF8.self))))
    }
}
