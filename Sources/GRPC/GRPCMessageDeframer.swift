// gRPC's length-prefixed messages arrive in chunks whose boundaries have nothing to do with message boundaries
// (HTTP/2 DATA frames, HTTP/1.1 body reads): a message may span many chunks and a chunk may carry several messages
// or pieces of them. The prefix (flag, 4-byte big-endian length) is checked before anything is buffered.

/// Splits a stream's DATA payload into gRPC messages, incrementally and with as few copies as possible: a message
/// that lies whole inside one chunk is handed out in place; only messages that straddle chunks are buffered, and
/// then only up to the limit, which is checked at the length prefix.
public struct GRPCMessageDeframer: Sendable {
    /// Largest message accepted.
    public let maxMessageBytes: Int
    /// Bytes of an incomplete prefix or message carried over between chunks.
    private var pending: [UInt8] = []
    /// Length of the message being assembled in `pending`, once its prefix is known.
    private var pendingLength: Int?
    /// Messages delivered so far.
    public private(set) var messageCount = 0

    /// Refuses messages over `maxMessageBytes` (4 MiB by default, gRPC's usual receive limit).
    public init(maxMessageBytes: Int = 4 << 20) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Bytes buffered while waiting for the rest of a message.
    public var bufferedBytes: Int { pending.count }

    /// Feeds one chunk; calls `onMessage` with each complete message (the pointer is valid only during the call).
    public mutating func process<E: Error>(
        _ chunk: UnsafeRawBufferPointer, onMessage: (UnsafeRawBufferPointer) throws(E) -> Void
    ) throws(GRPCDeframeErrorOr<E>) {
        var offset = 0
        // First finish a message started in an earlier chunk.
        if !pending.isEmpty {
            do { offset = try fillPending(from: chunk) } catch { throw .deframe(error) }
            guard let length = pendingLength, pending.count == GRPCMessageFramer.prefixLength + length else { return }
            let message = pending
            pending = []
            pendingLength = nil
            messageCount += 1
            let result = message.withUnsafeBytes { buffer in
                Result { () throws(E) in
                    try onMessage(UnsafeRawBufferPointer(rebasing: buffer[GRPCMessageFramer.prefixLength...]))
                }
            }
            do { try result.get() } catch { throw .handler(error) }
        }
        // Then hand out whole messages in place.
        while chunk.count - offset >= GRPCMessageFramer.prefixLength {
            let length: Int
            do { length = try checkedLength(chunk, at: offset) } catch { throw .deframe(error) }
            let end = offset + GRPCMessageFramer.prefixLength + length
            guard end <= chunk.count else { break }
            messageCount += 1
            do {
                try onMessage(UnsafeRawBufferPointer(rebasing: chunk[(offset + GRPCMessageFramer.prefixLength)..<end]))
            } catch { throw .handler(error) }
            offset = end
        }
        // Keep the rest: less than a prefix, or a message whose prefix has been checked against the limit.
        if offset < chunk.count {
            do {
                _ = try fillPending(from: UnsafeRawBufferPointer(rebasing: chunk[offset...]))
            } catch { throw .deframe(error) }
        }
    }

    /// Call at END_STREAM: throws when the stream ended inside a message.
    public func finish() throws(GRPCDeframeError) {
        guard pending.isEmpty else {
            let expected = GRPCMessageFramer.prefixLength + (pendingLength ?? 0)
            throw .truncatedMessage(missingBytes: max(expected - pending.count, 1))
        }
    }

    /// Copies from `chunk` into `pending` up to the end of the current prefix or message; returns bytes taken.
    private mutating func fillPending(from chunk: UnsafeRawBufferPointer) throws(GRPCDeframeError) -> Int {
        var taken = 0
        if pendingLength == nil {
            let want = min(GRPCMessageFramer.prefixLength - pending.count, chunk.count)
            pending.append(contentsOf: chunk[0..<want])
            taken = want
            guard pending.count == GRPCMessageFramer.prefixLength else { return taken }
            let length = try pending.withUnsafeBytes { prefix in
                Result { () throws(GRPCDeframeError) in try checkedLength(prefix, at: 0) }
            }.get()
            pendingLength = length
            pending.reserveCapacity(GRPCMessageFramer.prefixLength + length)
        }
        let want = min(GRPCMessageFramer.prefixLength + pendingLength! - pending.count, chunk.count - taken)
        pending.append(contentsOf: chunk[taken..<(taken + want)])
        return taken + want
    }

    /// Reads and checks the prefix at `index`: the flag, then the length against the limit, before buffering.
    private func checkedLength(_ bytes: UnsafeRawBufferPointer, at index: Int) throws(GRPCDeframeError) -> Int {
        switch bytes[index] {
        case 0: break
        case 1: throw .compressedMessage
        default: throw .invalidFlag(bytes[index])
        }
        let length = UInt32(bytes[index + 1]) << 24 | UInt32(bytes[index + 2]) << 16
            | UInt32(bytes[index + 3]) << 8 | UInt32(bytes[index + 4])
        guard Int(length) <= maxMessageBytes else { throw .messageTooLarge(length: length, limit: maxMessageBytes) }
        return Int(length)
    }
}
