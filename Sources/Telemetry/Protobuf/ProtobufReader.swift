// Protobuf wire-format reading over a borrowed byte buffer: varints, tags, lengths and skipping of unknown fields.
//
// The reader never allocates and never reads past `end`: every length is checked against the bytes that remain
// before it is used. Errors carry the byte offset where they were found; the message decoders add the field path.

/// The protobuf wire types (https://protobuf.dev/programming-guides/encoding/).
enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case startGroup = 3
    case endGroup = 4
    case fixed32 = 5
}

/// A cursor over protobuf bytes; the buffer is borrowed for the duration of one decode call.
struct ProtobufReader {
    /// Deepest group nesting followed when skipping unknown fields.
    static let maxGroupDepth = 32

    let base: UnsafeRawBufferPointer
    /// Offset of the next byte to read.
    var position: Int
    /// Offset one past the last byte of the current message.
    let end: Int

    init(_ base: UnsafeRawBufferPointer, range: Range<Int>? = nil) {
        self.base = base
        self.position = range?.lowerBound ?? 0
        self.end = range?.upperBound ?? base.count
    }

    /// True when the current message has no more bytes.
    var isAtEnd: Bool { position >= end }

    /// Reads one base-128 varint of at most 10 bytes.
    @inline(__always)
    mutating func readVarint() throws(DecodeError) -> UInt64 {
        // Fast path: one byte.
        if position < end {
            let first = base[position]
            if first < 0x80 {
                position += 1
                return UInt64(first)
            }
        }
        return try readVarintSlow()
    }

    private mutating func readVarintSlow() throws(DecodeError) -> UInt64 {
        let start = position
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw DecodeError(.truncatedVarint, offset: start) }
            let byte = base[position]
            position += 1
            if shift == 63 && byte > 1 { throw DecodeError(.overlongVarint, offset: start) }
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return result }
            shift += 7
            if shift > 63 { throw DecodeError(.overlongVarint, offset: start) }
        }
    }

    /// Reads a field tag; nil at the end of the message.
    mutating func readTag() throws(DecodeError) -> (field: Int, wireType: WireType)? {
        guard !isAtEnd else { return nil }
        let start = position
        let tag = try readVarint()
        let field = tag >> 3
        guard field != 0, field <= 0x1FFF_FFFF, let wireType = WireType(rawValue: UInt8(tag & 7)) else {
            throw DecodeError(.invalidTag, offset: start)
        }
        return (Int(field), wireType)
    }

    /// Reads a length prefix and returns the byte range it covers, checked against the message's end.
    mutating func readLengthDelimited() throws(DecodeError) -> Range<Int> {
        let start = position
        let length = try readVarint()
        guard length <= UInt64(end - position) else { throw DecodeError(.lengthPastEnd, offset: start) }
        let range = position..<(position + Int(length))
        position = range.upperBound
        return range
    }

    /// Skips the value of a field of the given wire type (forward compatibility: unknown fields of every type).
    mutating func skip(_ wireType: WireType, field: Int, depth: Int = 0) throws(DecodeError) {
        let start = position
        switch wireType {
        case .varint:
            _ = try readVarint()
        case .fixed64:
            guard end - position >= 8 else { throw DecodeError(.lengthPastEnd, offset: start) }
            position += 8
        case .fixed32:
            guard end - position >= 4 else { throw DecodeError(.lengthPastEnd, offset: start) }
            position += 4
        case .lengthDelimited:
            _ = try readLengthDelimited()
        case .startGroup:
            guard depth < Self.maxGroupDepth else { throw DecodeError(.nestingTooDeep, offset: start) }
            while true {
                guard let tag = try readTag() else { throw DecodeError(.lengthPastEnd, offset: start) }
                if tag.wireType == .endGroup {
                    guard tag.field == field else { throw DecodeError(.invalidTag, offset: position) }
                    return
                }
                try skip(tag.wireType, field: tag.field, depth: depth + 1)
            }
        case .endGroup:
            throw DecodeError(.invalidTag, offset: start)
        }
    }

    /// Number of varints in `range`: the count of bytes without the continuation bit (exact for a well-formed
    /// packed field, an upper bound otherwise), so limits are checked before anything is appended.
    func varintCount(in range: Range<Int>) -> Int {
        var count = 0
        for i in range where base[i] < 0x80 { count += 1 }
        return count
    }

    /// Decodes a zigzag-encoded 64-bit value.
    @inline(__always)
    static func zigzagDecode64(_ n: UInt64) -> Int64 { Int64(bitPattern: (n >> 1) ^ (0 &- (n & 1))) }

    /// Decodes a zigzag-encoded 32-bit value; nil when the varint does not fit 32 bits.
    @inline(__always)
    static func zigzagDecode32(_ n: UInt64) -> Int32? {
        guard n <= UInt64(UInt32.max) else { return nil }
        let v = UInt32(n)
        return Int32(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }
}
