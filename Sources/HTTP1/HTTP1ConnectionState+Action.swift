extension HTTP1ConnectionState {
    /// What the server must do next, in the order returned. The server performs actions and reports events; it
    /// decides nothing about the lifecycle.
    public enum Action {
        /// Arm the header deadline this long from now (replacing any armed one).
        case startHeaderTimer(Duration)
        /// Disarm the header deadline (a no-op when it already fired).
        case cancelHeaderTimer
        /// Arm the body deadline this long from now.
        case startBodyTimer(Duration)
        /// Disarm the body deadline (a no-op when it already fired).
        case cancelBodyTimer
        /// Stop reading (backpressure): the input that follows waits in the transport.
        case pauseReading
        /// Read again; the input that waited is delivered anew.
        case resumeReading
        /// Send `100 Continue`: the client waits for it before sending the body.
        case sendContinue
        /// Answer this complete request (head, body and byte counts); report the answer with `responseReady`.
        case dispatch(HTTPRequestHead, HTTPMessageEnd)
        /// Send the answer to `head`; `isClosing` marks it `Connection: close` (a `closeLingering` follows).
        case sendResponse(Response, to: HTTPRequestHead, isClosing: Bool)
        /// Send an error answer for `refusal`, marked `Connection: close`, in `version`; `closeLingering` follows.
        case sendError(HTTP1Refusal, version: HTTPVersion)
        /// Send what is buffered and FIN, discard the input that still comes, then close.
        case closeLingering
        /// Close now, dropping what is buffered.
        case close
    }
}

extension HTTP1ConnectionState.Action: Equatable where Response: Equatable {}

extension HTTP1ConnectionState.Action: Sendable where Response: Sendable {}
