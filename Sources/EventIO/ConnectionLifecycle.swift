// The lifecycle of one TCP connection as a value-type state machine: events in, one action out.
//
// `Connection` feeds it what happened (connect finished, EOF, the outbound buffer drained, the owner asked to
// close ...) and performs the action it returns; the machine itself touches no socket, so every path is tested
// without one. The state is three small parts:
// - phase:  connecting → open → closed. `closed` is terminal and reached only through a `.close` action, so the
//           handler hears `didCloseWith` exactly once.
// - input:  delivering ⇄ paused (backpressure); discarding (lingering close: read and drop until EOF); ended (EOF).
// - output: open → shutdownAfterDrain (shutdown asked while bytes were still buffered) → shutDown (SHUT_WR sent).
// Closing rules:
// - `close()` is immediate; unsent bytes are dropped.
// - `closeLingering()` stops delivering input, sends what is buffered, then shuts down the write side, then reads and
//   discards until the peer's EOF (or the linger timer), then closes: the peer reads our last response instead of
//   getting an RST for input we never read. If the peer's EOF already came, it closes right after the drain.
// - `shutdownOutput()` half-closes after the drain; if the peer's EOF already came, nothing is left, so it closes.
// - The reason is `.peerClosed` when the peer's EOF arrived before this side asked to close, `.local` otherwise.

/// The connection lifecycle; see the rules above.
struct ConnectionLifecycle: Equatable {
    /// Where the connection is in its life.
    enum Phase: Equatable {
        case connecting, open, closed
    }

    /// What happens to bytes the peer sends.
    enum Input: Equatable {
        case delivering, paused, discarding, ended
    }

    /// Whether this side may still send.
    enum Output: Equatable {
        case open, shutdownAfterDrain, shutDown
    }

    /// What `Connection` must do next.
    enum Action: Equatable {
        case none
        /// The connect completed: send what was written meanwhile and tell the handler.
        case notifyOpened
        /// The peer's EOF arrived while the handler was reading: tell the handler.
        case notifyInputEnded
        /// The outbound buffer emptied after a backlog: tell the handler (backpressure released).
        case notifyDrained
        /// Send FIN (`shutdown(SHUT_WR)`) and keep the connection open.
        case shutdownOutput
        /// Optionally send FIN, then start the linger timer and discard input until EOF.
        case linger(shutdownOutputFirst: Bool)
        /// Close the descriptor now and tell the handler why.
        case close(CloseReason)
    }

    private(set) var phase: Phase
    private(set) var input: Input = .delivering
    private(set) var output: Output = .open
    /// Set by `closeLingering()`: the connection closes once input ends (or the linger timer fires).
    private(set) var closesWhenInputEnds = false
    /// Whether the peer's EOF came before this side first asked to close; fixes the close reason.
    private var peerEndedFirst: Bool?

    /// A connection that is still connecting (outbound) or already open (accepted).
    init(connecting: Bool) {
        phase = connecting ? .connecting : .open
    }

    /// True once the `.close` action has been issued.
    var isClosed: Bool { phase == .closed }

    /// Whether epoll should report the socket readable: only while there is someone to give the bytes to.
    var wantsInput: Bool { phase == .open && (input == .delivering || input == .discarding) }

    /// Whether read bytes go to the handler (otherwise they are counted and dropped).
    var deliversInput: Bool { phase == .open && (input == .delivering || input == .paused) }

    /// Whether `write` accepts bytes: while connecting (they are buffered) or open, until a shutdown was asked for.
    var acceptsWrites: Bool { phase != .closed && output == .open }

    /// Whether epoll should report the socket writable: to learn that a connect finished, or while bytes wait.
    func wantsWritable(hasBufferedOutput: Bool) -> Bool {
        phase == .connecting || (phase == .open && hasBufferedOutput && output != .shutDown)
    }

    /// The pending connect finished with `error` (SO_ERROR; 0 for success).
    mutating func connectFinished(error: Int32) -> Action {
        guard phase == .connecting else { return .none }
        if error == 0 {
            phase = .open
            return .notifyOpened
        }
        return close(.connectFailed(SystemError(call: "connect", errno: error)))
    }

    /// A read returned 0: the peer will send nothing more.
    mutating func inputEnded() -> Action {
        guard phase == .open, input != .ended else { return .none }
        let wasDiscarding = input == .discarding
        input = .ended
        if peerEndedFirst == nil && !wasDiscarding { peerEndedFirst = true }
        if closesWhenInputEnds && output == .shutDown { return close(closingReason) }
        return wasDiscarding ? .none : .notifyInputEnded
    }

    /// Stops delivering input (backpressure); returns whether anything changed.
    mutating func pauseInput() -> Bool {
        guard input == .delivering else { return false }
        input = .paused
        return true
    }

    /// Resumes delivering input; returns whether anything changed.
    mutating func resumeInput() -> Bool {
        guard input == .paused else { return false }
        input = .delivering
        return true
    }

    /// The owner asked to half-close once the buffered bytes are sent.
    mutating func shutdownOutputRequested(hasBufferedOutput: Bool) -> Action {
        guard phase != .closed, output == .open else { return .none }
        notePeerEndedFirst()
        if phase == .connecting { return close(closingReason) }
        if hasBufferedOutput {
            output = .shutdownAfterDrain
            return .none
        }
        return shutDownNow()
    }

    /// The owner asked for a lingering close (see the closing rules).
    mutating func lingeringCloseRequested(hasBufferedOutput: Bool) -> Action {
        guard phase != .closed else { return .none }
        notePeerEndedFirst()
        if phase == .connecting { return close(closingReason) }
        closesWhenInputEnds = true
        if input != .ended { input = .discarding }
        switch output {
        case .shutDown:
            return input == .ended ? close(closingReason) : .linger(shutdownOutputFirst: false)
        case .shutdownAfterDrain:
            return .none
        case .open:
            if hasBufferedOutput {
                output = .shutdownAfterDrain
                return .none
            }
            return shutDownNow()
        }
    }

    /// Every buffered byte has been sent after a backlog.
    mutating func outputDrained() -> Action {
        guard phase == .open else { return .none }
        return output == .shutdownAfterDrain ? shutDownNow() : .notifyDrained
    }

    /// The linger timer fired before the peer's EOF.
    mutating func lingerTimedOut() -> Action {
        guard phase == .open, closesWhenInputEnds else { return .none }
        return close(closingReason)
    }

    /// The owner asked to close now.
    mutating func closeRequested() -> Action {
        guard phase != .closed else { return .none }
        notePeerEndedFirst()
        return close(closingReason)
    }

    /// Ends the connection for `reason` (an error, the loop stopping ...), unless it already ended.
    mutating func close(_ reason: CloseReason) -> Action {
        guard phase != .closed else { return .none }
        phase = .closed
        return .close(reason)
    }

    private var closingReason: CloseReason { peerEndedFirst == true ? .peerClosed : .local }

    private mutating func notePeerEndedFirst() {
        if peerEndedFirst == nil { peerEndedFirst = input == .ended }
    }

    /// Output is drained and a shutdown was asked for: decide between half-close, linger and close.
    private mutating func shutDownNow() -> Action {
        output = .shutDown
        if input == .ended { return close(closingReason) }
        return closesWhenInputEnds ? .linger(shutdownOutputFirst: true) : .shutdownOutput
    }
}
