// The blob of a compressed column chunk (issue 13): one series' readings, timestamps and values as two columns,
// so a chunk row can hold thousands of readings in a few bytes each. The codec is pure (no SQLite) and lossless:
// decoding gives back bit-identical Doubles and the exact timestamps.
//
// Layout (all integers are LEB128 varints; signed ones zigzag-encoded first):
//   version (1 byte, 1) · count n
//   timestamps: first (signed) · then, when n > 1, a mode byte:
//     0 regular: the one gap (unsigned): every reading is `gap` after the one before (the wire's `interval_ms`)
//     1 irregular: the first gap (signed), then n − 2 differences between consecutive gaps (signed)
//   values: a mode byte:
//     0 decimal: exponent (signed), first mantissa (signed), n − 1 mantissa differences (signed): the wire's
//       decimal grid (`DecimalGrid`), chosen as the coarsest grid on which every value of the chunk lies
//       bit for bit (−0.0 is not on any grid: it goes to mode 1)
//     1 XOR: the first value's 8 bytes (big-endian bits), then for each next value its bits XOR the previous
//       ones as a control byte (high nibble: leading zero bytes, low nibble: trailing zero bytes; 0x88 when
//       equal) followed by the bytes between (Gorilla's idea, byte-aligned)
// Readings must come in timestamp order (strictly increasing: one reading per series and millisecond).

import Telemetry

/// Encodes and decodes the readings of one chunk; see the file header for the layout.
package enum ChunkCodec {
    /// The layout version this code writes and reads.
    static let version: UInt8 = 1
    /// Coarsest and finest decimal grids tried (10^6 … 10^−15); values on none of them use the XOR mode.
    static let exponents: ClosedRange<Int32> = -15...6

    /// The blob for readings at `timestamps` (strictly increasing) with `values` (parallel).
    package static func encode(timestamps: [Int64], values: [Double]) -> [UInt8] {
        precondition(timestamps.count == values.count, "timestamps and values must be parallel")
        var out: [UInt8] = [version]
        out.reserveCapacity(16 + timestamps.count * 2)
        appendUnsigned(UInt64(timestamps.count), to: &out)
        guard let first = timestamps.first else { return out }
        appendSigned(first, to: &out)
        if timestamps.count > 1 { encodeTimes(timestamps, to: &out) }
        if let exponent = decimalExponent(of: values) {
            out.append(0)
            appendSigned(Int64(exponent), to: &out)
            var previous: Int64 = 0
            for value in values {
                let mantissa = DecimalGrid.mantissa(of: value, exponent: exponent)!
                appendSigned(mantissa &- previous, to: &out)
                previous = mantissa
            }
        } else {
            out.append(1)
            encodeXOR(values, to: &out)
        }
        return out
    }

    /// The readings in `blob`, or why it cannot be decoded (a damaged or foreign blob never traps).
    package static func decode(_ blob: [UInt8]) throws(ChunkDecodeError) -> (timestamps: [Int64], values: [Double]) {
        var reader = ChunkReader(blob)
        guard try reader.byte() == version else { throw ChunkDecodeError("unknown chunk version \(blob[0])") }
        let declared = try reader.unsigned()
        // Every reading takes at least one byte of values, so a count beyond the blob's size is damage, not data.
        guard declared <= UInt64(blob.count) else { throw ChunkDecodeError("chunk count \(declared) too large") }
        let count = Int(declared)
        guard count > 0 else { return ([], []) }
        var timestamps: [Int64] = []
        timestamps.reserveCapacity(count)
        timestamps.append(try reader.signed())
        if count > 1 { try decodeTimes(count, from: &reader, into: &timestamps) }
        var values: [Double] = []
        values.reserveCapacity(count)
        switch try reader.byte() {
        case 0:
            let exponent = try reader.signed()
            guard let grid = Int32(exactly: exponent), exponents.contains(grid) else {
                throw ChunkDecodeError("chunk exponent \(exponent) out of range")
            }
            var mantissa: Int64 = 0
            for _ in 0..<count {
                mantissa = mantissa &+ (try reader.signed())
                values.append(DecimalGrid.value(mantissa: mantissa, exponent: grid))
            }
        case 1:
            try decodeXOR(count, from: &reader, into: &values)
        case let mode:
            throw ChunkDecodeError("unknown value mode \(mode)")
        }
        guard reader.isAtEnd else { throw ChunkDecodeError("\(reader.remaining) bytes after the chunk's values") }
        return (timestamps, values)
    }

    // MARK: Timestamps

    private static func encodeTimes(_ timestamps: [Int64], to out: inout [UInt8]) {
        let gap = timestamps[1] &- timestamps[0]
        var isRegular = gap > 0
        for index in 2..<max(timestamps.count, 2) where timestamps[index] &- timestamps[index - 1] != gap {
            isRegular = false
            break
        }
        if isRegular {
            out.append(0)
            appendUnsigned(UInt64(gap), to: &out)
            return
        }
        out.append(1)
        appendSigned(gap, to: &out)
        var previousGap = gap
        for index in 2..<max(timestamps.count, 2) {
            let next = timestamps[index] &- timestamps[index - 1]
            appendSigned(next &- previousGap, to: &out)
            previousGap = next
        }
    }

    private static func decodeTimes(_ count: Int, from reader: inout ChunkReader, into timestamps: inout [Int64])
        throws(ChunkDecodeError)
    {
        switch try reader.byte() {
        case 0:
            let gap = Int64(bitPattern: try reader.unsigned())
            for _ in 1..<count { timestamps.append(timestamps[timestamps.count - 1] &+ gap) }
        case 1:
            var gap = try reader.signed()
            timestamps.append(timestamps[0] &+ gap)
            for _ in 2..<max(count, 2) {
                gap = gap &+ (try reader.signed())
                timestamps.append(timestamps[timestamps.count - 1] &+ gap)
            }
        case let mode:
            throw ChunkDecodeError("unknown time mode \(mode)")
        }
    }

    // MARK: Values

    /// The coarsest grid holding every value bit for bit, or nil.
    static func decimalExponent(of values: [Double]) -> Int32? {
        var exponent = exponents.upperBound
        for value in values {
            guard value.isFinite, value.sign == .plus || value != 0 else { return nil }
            while !isOnGrid(value, exponent) {
                exponent -= 1
                if exponent < exponents.lowerBound { return nil }
            }
        }
        return exponent
    }

    private static func isOnGrid(_ value: Double, _ exponent: Int32) -> Bool {
        guard let mantissa = DecimalGrid.mantissa(of: value, exponent: exponent) else { return false }
        return DecimalGrid.value(mantissa: mantissa, exponent: exponent).bitPattern == value.bitPattern
    }

    private static func encodeXOR(_ values: [Double], to out: inout [UInt8]) {
        var previous = values[0].bitPattern
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: previous >> shift)) }
        for value in values.dropFirst() {
            let bits = value.bitPattern
            let xor = bits ^ previous
            previous = bits
            guard xor != 0 else {
                out.append(0x88)
                continue
            }
            let leading = xor.leadingZeroBitCount / 8
            let trailing = xor.trailingZeroBitCount / 8
            out.append(UInt8(leading << 4 | trailing))
            for index in leading..<(8 - trailing) {
                out.append(UInt8(truncatingIfNeeded: xor >> (56 - 8 * index)))
            }
        }
    }

    private static func decodeXOR(_ count: Int, from reader: inout ChunkReader, into values: inout [Double])
        throws(ChunkDecodeError)
    {
        var previous: UInt64 = 0
        for _ in 0..<8 { previous = previous << 8 | UInt64(try reader.byte()) }
        values.append(Double(bitPattern: previous))
        for _ in 1..<max(count, 1) {
            let control = try reader.byte()
            if control != 0x88 {
                let leading = Int(control >> 4)
                let trailing = Int(control & 0x0f)
                guard leading + trailing < 8 else { throw ChunkDecodeError("bad XOR control byte \(control)") }
                var xor: UInt64 = 0
                for index in leading..<(8 - trailing) { xor |= UInt64(try reader.byte()) << (56 - 8 * index) }
                previous ^= xor
            }
            values.append(Double(bitPattern: previous))
        }
    }

    // MARK: Varints

    static func appendUnsigned(_ value: UInt64, to out: inout [UInt8]) {
        var rest = value
        while rest >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(rest))
    }

    static func appendSigned(_ value: Int64, to out: inout [UInt8]) {
        appendUnsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)), to: &out)
    }
}

/// Why a chunk blob could not be decoded.
package struct ChunkDecodeError: Error, Equatable, CustomStringConvertible {
    /// What was wrong, and where.
    package var description: String

    init(_ description: String) { self.description = description }
}

/// Reads a chunk blob front to back; every read checks the end.
struct ChunkReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }
    var remaining: Int { bytes.count - offset }

    mutating func byte() throws(ChunkDecodeError) -> UInt8 {
        guard offset < bytes.count else { throw ChunkDecodeError("chunk ends at byte \(offset)") }
        offset += 1
        return bytes[offset - 1]
    }

    mutating func unsigned() throws(ChunkDecodeError) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            let next = try byte()
            guard shift < 63 || next <= 1 else { throw ChunkDecodeError("varint too long at byte \(offset - 1)") }
            value |= UInt64(next & 0x7f) << shift
            if next & 0x80 == 0 { return value }
        }
        throw ChunkDecodeError("varint too long at byte \(offset)")
    }

    mutating func signed() throws(ChunkDecodeError) -> Int64 {
        let raw = try unsigned()
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }
}
