// Once a head is reported, reading a request's body and a response's body is the same work: feed the body decoder,
// keep the byte counts current, deliver or accumulate payload, and at the end report the message and get ready for
// the next one (or close). It is written once here, for both parsers.

/// The events a parser reports while reading a body; the cases of both parsers' `Event` enums satisfy these.
protocol HTTPBodyEvents: Sendable, Equatable {
    /// All bytes given were consumed and no event is complete yet.
    static var needMoreData: Self { get }
    /// A piece of body payload (streamed delivery only).
    static func body(_ payload: [UInt8]) -> Self
    /// The message is complete.
    static func end(_ end: HTTPMessageEnd) -> Self
    /// The message is refused or malformed; terminal.
    static func error(_ error: HTTPParseError) -> Self
}

/// What `HTTPRequestParser` and `HTTPResponseParser` share after the head: the state the body is read with, and (in
/// the extension) the body loop, the end of a message and the terminal error.
protocol HTTPMessageParser {
    associatedtype Event: HTTPBodyEvents

    /// How body payload reaches the caller.
    var bodyDelivery: HTTPBodyDelivery { get }
    /// Where the parser is.
    var phase: MessagePhase { get set }
    /// Bytes of the message in progress taken so far.
    var messageBytes: HTTPMessageBytes { get set }
    /// Decodes the body of the message whose head was reported.
    var bodyDecoder: BodyDecoder { get set }
    /// The body collected so far (accumulated delivery).
    var bodyBuffer: [UInt8] { get set }
    /// Whether the connection stays open after the current message.
    var isKeepAlive: Bool { get }
}

extension HTTPMessageParser {
    /// Takes body bytes until payload, the end of the body, the end of the input, or a framing fault.
    mutating func parseBody(_ input: UnsafeRawBufferPointer) -> HTTPParseStep<Event> {
        var index = 0
        while true {
            let (output, next) = bodyDecoder.decode(input, from: index)
            index = next
            messageBytes.body = bodyDecoder.bytes.body
            messageBytes.chunkFraming = bodyDecoder.bytes.chunkFraming
            switch output {
            case .data(let range):
                let payload = UnsafeRawBufferPointer(rebasing: input[range])
                guard bodyDelivery == .accumulated else { return HTTPParseStep(.body(Array(payload)), consumed: index) }
                bodyBuffer.append(contentsOf: payload)
            case .needMoreData:
                return HTTPParseStep(.needMoreData, consumed: index)
            case .complete:
                return finishMessage(consumed: index)
            case .failed(let error):
                return fail(error, consumed: index)
            }
        }
    }

    /// Reports the complete message and gets ready for the next one (or closes).
    mutating func finishMessage(consumed: Int) -> HTTPParseStep<Event> {
        let end = HTTPMessageEnd(
            body: bodyBuffer, trailers: bodyDecoder.takeTrailers(), bytes: messageBytes, isKeepAlive: isKeepAlive)
        bodyBuffer = []
        messageBytes = HTTPMessageBytes()
        phase = isKeepAlive ? .head : .closed
        return HTTPParseStep(.end(end), consumed: consumed)
    }

    /// Enters the terminal error state.
    mutating func fail(_ error: HTTPParseError, consumed: Int = 0) -> HTTPParseStep<Event> {
        phase = .failed(error)
        return HTTPParseStep(.error(error), consumed: consumed)
    }
}
