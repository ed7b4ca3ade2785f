// Flood budgets for one server connection: frames that cost the server work but carry no request progress.
//
// Two token buckets (each starts full at `burst` tokens and refills `ratePerSecond`, capped at `burst`):
// - control frames: PING and SETTINGS (each one makes us queue an ACK), PRIORITY, and DATA frames with no payload
//   that do not end their stream (CVE-2019-9512 ping flood, -9515 settings flood, -9513 priority loop, -9518 empty
//   frames). ACKs of our own PING/SETTINGS are free.
// - stream resets: RST_STREAM frames from the peer (CVE-2023-44487 rapid reset: HEADERS then RST_STREAM, over and
//   over, which the concurrent-stream limit never sees) and resets we send with an error code because the peer
//   broke a stream's rules (the "MadeYouReset" variant). Our own RST_STREAM(NO_ERROR) after an early answer is free.
// An empty bucket is a flood: the session answers GOAWAY(ENHANCE_YOUR_CALM) and ignores all further input.
// A well-behaved client stays far below both (a gRPC client sends a PING now and then and cancels a call rarely);
// nghttp2's own limits (queued ACKs, its RST_STREAM limiter) stay in place behind these as a backstop.

/// A token bucket over a nanosecond clock: `burst` tokens at first, `ratePerSecond` more each second, capped.
public struct TokenBucket: Sendable, Equatable {
    /// Tokens at the start, and the most it ever holds.
    public let burst: Double
    /// Tokens added per second.
    public let ratePerSecond: Double
    private var tokens: Double
    private var lastNanoseconds: UInt64?

    /// A full bucket; `burst` is at least 1 and a negative rate counts as 0.
    public init(burst: Int, ratePerSecond: Int) {
        self.burst = Double(max(burst, 1))
        self.ratePerSecond = Double(max(ratePerSecond, 0))
        tokens = self.burst
    }

    /// Takes one token at time `now` (nanoseconds, any monotonic origin); false when none is left.
    public mutating func take(at now: UInt64) -> Bool {
        if let last = lastNanoseconds, now > last {
            tokens = min(burst, tokens + Double(now - last) / 1e9 * ratePerSecond)
        }
        lastNanoseconds = max(now, lastNanoseconds ?? 0)
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}

/// The flood budgets of a server session (see the file header for what each bucket counts).
public struct HTTP2FloodLimits: Sendable, Equatable {
    /// PING, SETTINGS, PRIORITY and empty DATA frames allowed in a burst.
    public var controlFrameBurst: Int = 100
    /// Control frames allowed per second once the burst is spent.
    public var controlFramesPerSecond: Int = 20
    /// Stream resets (sent by the peer, or provoked by it) allowed in a burst.
    public var streamResetBurst: Int = 100
    /// Stream resets allowed per second once the burst is spent.
    public var streamResetsPerSecond: Int = 10

    /// The default budgets above.
    public init() {}
}

/// Why a session ended the connection as a flood.
public enum HTTP2Flood: String, Sendable, Equatable {
    /// The control-frame budget ran out (PING, SETTINGS, PRIORITY, empty DATA).
    case controlFrames = "control_frames"
    /// The stream-reset budget ran out (rapid reset).
    case streamResets = "stream_resets"
    /// nghttp2's own guard: too many ACKs queued unsent (NGHTTP2_ERR_FLOODED), a peer that does not read.
    case queuedAcks = "queued_acks"

    /// A phrase for logs.
    public var description: String {
        switch self {
        case .controlFrames: "too many PING/SETTINGS/PRIORITY/empty DATA frames"
        case .streamResets: "too many stream resets (rapid reset)"
        case .queuedAcks: "too many PING/SETTINGS ACKs queued unread"
        }
    }
}

/// Counts the frames of one connection against `HTTP2FloodLimits`; pure, so it is tested without a socket.
struct HTTP2FloodGuard: Sendable {
    private var controlFrames: TokenBucket
    private var streamResets: TokenBucket

    init(limits: HTTP2FloodLimits) {
        controlFrames = TokenBucket(burst: limits.controlFrameBurst, ratePerSecond: limits.controlFramesPerSecond)
        streamResets = TokenBucket(burst: limits.streamResetBurst, ratePerSecond: limits.streamResetsPerSecond)
    }

    /// A frame arrived from the peer; returns the flood it completes, if any. `now` (nanoseconds) is read only for
    /// the frames that count.
    mutating func received(type: UInt8, flags: UInt8, length: Int, at now: @autoclosure () -> UInt64) -> HTTP2Flood? {
        let isACKOrEndStream = flags & 0x1 != 0  // the same bit: ACK on PING/SETTINGS, END_STREAM on DATA
        switch type {
        case HTTP2FrameType.ping, HTTP2FrameType.settings:
            return isACKOrEndStream ? nil : spendControlFrame(at: now())
        case HTTP2FrameType.priority:
            return spendControlFrame(at: now())
        case HTTP2FrameType.data where length == 0 && !isACKOrEndStream:
            return spendControlFrame(at: now())
        case HTTP2FrameType.rstStream:
            return streamResets.take(at: now()) ? nil : .streamResets
        default:
            return nil
        }
    }

    /// We reset a stream with `errorCode` because of something the peer did (NO_ERROR resets are free).
    mutating func sentReset(errorCode: UInt32, at now: @autoclosure () -> UInt64) -> HTTP2Flood? {
        guard errorCode != HTTP2ErrorCode.noError else { return nil }
        return streamResets.take(at: now()) ? nil : .streamResets
    }

    private mutating func spendControlFrame(at now: UInt64) -> HTTP2Flood? {
        controlFrames.take(at: now) ? nil : .controlFrames
    }
}
