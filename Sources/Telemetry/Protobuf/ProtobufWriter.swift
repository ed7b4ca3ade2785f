// Protobuf wire-format writing into one contiguous, pre-sized byte array.
//
// Encoders compute the exact size first (`varintSize` and the message `protobufSize` properties), reserve it once,
// then append: no intermediate buffers for nested messages. Fields equal to their proto3 default are omitted and
// fields are written in field-number order, which is what protoc emits, so our bytes equal protoc's.

/// Appends protobuf wire-format values to a byte array.
struct ProtobufWriter {
    /// The encoded bytes so far.
    var bytes: [UInt8]

    init(capacity: Int) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Bytes a varint of this value takes.
    @inline(__always)
    static func varintSize(_ value: UInt64) -> Int {
        // 1 byte per 7 significant bits, at least 1.
        let bits = 64 - (value | 1).leadingZeroBitCount
        return (bits + 6) / 7
    }

    /// Zigzag form of a signed 64-bit value.
    @inline(__always)
    static func zigzag64(_ n: Int64) -> UInt64 { UInt64(bitPattern: (n << 1) ^ (n >> 63)) }

    /// Zigzag form of a signed 32-bit value (as protoc writes `sint32`: 32-bit zigzag, never sign-extended).
    @inline(__always)
    static func zigzag32(_ n: Int32) -> UInt64 { UInt64(UInt32(bitPattern: (n << 1) ^ (n >> 31))) }

    @inline(__always)
    mutating func writeVarint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inline(__always)
    mutating func writeTag(_ field: Int, _ wireType: WireType) {
        writeVarint(UInt64(field << 3) | UInt64(wireType.rawValue))
    }

    /// Writes a varint field unless it is 0 (the proto3 default).
    mutating func writeVarintField(_ field: Int, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(field, .varint)
        writeVarint(value)
    }

    /// Writes a string or bytes field unless it is empty.
    mutating func writeBytesField<C: Collection>(_ field: Int, _ value: C) where C.Element == UInt8 {
        guard !value.isEmpty else { return }
        writeTag(field, .lengthDelimited)
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    /// Size of a varint field as `writeVarintField` writes it.
    static func varintFieldSize(_ field: Int, _ value: UInt64) -> Int {
        value == 0 ? 0 : varintSize(UInt64(field << 3)) + varintSize(value)
    }

    /// Size of a length-delimited field with `length` payload bytes (written even when `length` is 0 only by
    /// callers that mean to; `writeBytesField` omits empty values).
    static func lengthDelimitedFieldSize(_ field: Int, length: Int) -> Int {
        varintSize(UInt64(field << 3)) + varintSize(UInt64(length)) + length
    }
}
