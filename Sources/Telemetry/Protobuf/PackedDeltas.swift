// `Series.packed_deltas` (field 8): mantissa deltas bit-packed at one width per series, for sensors whose deltas
// are small (most are: a temperature at 0.01 °C moves a few steps a second, a pressure mostly not at all). A
// varint delta costs at least 8 bits; packed, a delta of ±3 costs 3.
//
// Layout: varint n (the number of deltas), one byte w (bits per delta, 0–64), then ⌈n·w/8⌉ bytes holding the n
// deltas zigzag-encoded in w bits each, least significant bit first (bit k of the run is bit k mod 8 of byte
// ⌊k/8⌋); the unused high bits of the last byte are 0. w = 0 means n zero deltas and no bytes. The deltas follow
// those of `mantissa_deltas` (a series may carry its large first delta there and the small rest here).
// Decoding refuses a wrong length, a width over 64 and nonzero padding, so each run has exactly one encoding.
// As for any bytes field, the last occurrence in a series wins and is the only one read, and an empty value is
// proto3's default, the same as no field (a generated decoder cannot tell them apart): Series' decoder does both.

/// The bit-packed form of mantissa deltas (field 8 of `Series`); see the rules above.
enum PackedDeltas {
    /// Bits needed for `value`'s zigzag form.
    static func width(_ zigzag: UInt64) -> Int { zigzag == 0 ? 0 : 64 - zigzag.leadingZeroBitCount }

    /// Size of a packed run of `count` deltas of `width` bits (n, w and the bits), without the field's tag and length.
    static func runSize(count: Int, width: Int) -> Int {
        ProtobufWriter.varintSize(UInt64(count)) + 1 + (count * width + 7) / 8
    }

    /// Appends the packed run of `deltas` at `w` bits each (at least the widest delta's) to `writer` (without tag
    /// and length).
    static func write<C: Collection<Int64>>(_ deltas: C, width w: Int, to writer: inout ProtobufWriter) {
        writer.writeVarint(UInt64(deltas.count))
        writer.bytes.append(UInt8(w))
        guard w > 0 else { return }
        var accumulator: UInt64 = 0
        var bits = 0
        for delta in deltas {
            let value = ProtobufWriter.zigzag64(delta)
            accumulator |= value << UInt64(bits)
            let room = 64 - bits
            if w >= room {
                // The low `room` bits filled the accumulator: flush it whole, keep the value's rest.
                for shift in stride(from: 0, to: 64, by: 8) { writer.bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt64(shift))) }
                accumulator = room == 64 ? 0 : value >> UInt64(room)
                bits = w - room
            } else {
                bits += w
            }
        }
        while bits > 0 {
            writer.bytes.append(UInt8(truncatingIfNeeded: accumulator))
            accumulator >>= 8
            bits -= 8
        }
    }

    /// Decodes a packed run into deltas, refusing what breaks the layout; `limit` bounds n before anything is
    /// allocated.
    static func read(_ bytes: UnsafeRawBufferPointer, limit: Int, path: String, offset: Int) throws(DecodeError)
        -> [Int64]
    {
        var reader = ProtobufReader(bytes)
        let n: UInt64
        do {
            n = try reader.readVarint()
        } catch {
            // The reader counts from the run's first byte; the error reports the message's offset.
            throw DecodeError(error.reason, path: path, offset: offset + error.offset)
        }
        guard n <= UInt64(limit) else {
            throw DecodeError(.tooManyReadings(limit: limit), path: path, offset: offset)
        }
        guard reader.position < bytes.count else {
            throw DecodeError(.packedDeltas("missing the width byte"), path: path, offset: offset + reader.position)
        }
        let w = Int(bytes[reader.position])
        let start = reader.position + 1
        guard w <= 64 else {
            throw DecodeError(.packedDeltas("width \(w) is over 64 bits"), path: path, offset: offset + start - 1)
        }
        let count = Int(n)
        let needed = (count * w + 7) / 8
        guard bytes.count - start == needed else {
            throw DecodeError(.packedDeltas("\(count) deltas of \(w) bits take \(needed) bytes, got \(bytes.count - start)"),
                              path: path, offset: offset + start)
        }
        var deltas = [Int64](repeating: 0, count: count)
        guard w > 0 else { return deltas }
        let mask: UInt64 = w == 64 ? .max : (1 << UInt64(w)) - 1
        var bit = 0
        for index in 0..<count {
            var value: UInt64 = 0
            var taken = 0
            while taken < w {
                let byte = UInt64(bytes[start + bit / 8])
                let inByte = bit % 8
                let chunk = Swift.min(8 - inByte, w - taken)
                value |= ((byte >> UInt64(inByte)) & ((1 << UInt64(chunk)) - 1)) << UInt64(taken)
                taken += chunk
                bit += chunk
            }
            deltas[index] = ProtobufReader.zigzagDecode64(value & mask)
        }
        if bit % 8 != 0, UInt64(bytes[start + bit / 8]) >> UInt64(bit % 8) != 0 {
            throw DecodeError(.packedDeltas("padding bits after the last delta are not 0"), path: path,
                              offset: offset + bytes.count - 1)
        }
        return deltas
    }

}

/// How one series' mantissa deltas go on the wire, decided once per encoding (its size and its bytes follow the
/// same decision): the leading deltas sent as varints in `mantissa_deltas` (none, the first, or all: whichever
/// encoding is smallest; all without packing), and the rest packed at `packedWidth` bits in `packed_deltas`.
struct DeltaSplit {
    /// Leading deltas sent as varints.
    let varints: Int
    /// Bytes of those varints (the packed field 5's length).
    let varintBytes: Int
    /// Bits per packed delta.
    let packedWidth: Int
    /// Bytes of the packed run (field 8's length); 0 when nothing is packed.
    let packedBytes: Int

    init(_ deltas: [Int64], packing: Bool) {
        let sizes = deltas.map { ProtobufWriter.varintSize(ProtobufWriter.zigzag64($0)) }
        let allVarintBytes = sizes.reduce(0, +)
        guard packing, deltas.count > 1 else {
            self.init(varints: deltas.count, varintBytes: allVarintBytes, packedWidth: 0, packedBytes: 0)
            return
        }
        let widths = deltas.map { PackedDeltas.width(ProtobufWriter.zigzag64($0)) }
        let restWidth = widths.dropFirst().max() ?? 0
        let allWidth = Swift.max(widths[0], restWidth)
        let allPacked = PackedDeltas.runSize(count: deltas.count, width: allWidth)
        let restPacked = PackedDeltas.runSize(count: deltas.count - 1, width: restWidth)
        let allVarint = ProtobufWriter.lengthDelimitedFieldSize(5, length: allVarintBytes)
        let allPackedField = ProtobufWriter.lengthDelimitedFieldSize(8, length: allPacked)
        let firstThenPacked = ProtobufWriter.lengthDelimitedFieldSize(5, length: sizes[0])
            + ProtobufWriter.lengthDelimitedFieldSize(8, length: restPacked)
        if allVarint <= Swift.min(allPackedField, firstThenPacked) {
            self.init(varints: deltas.count, varintBytes: allVarintBytes, packedWidth: 0, packedBytes: 0)
        } else if allPackedField <= firstThenPacked {
            self.init(varints: 0, varintBytes: 0, packedWidth: allWidth, packedBytes: allPacked)
        } else {
            self.init(varints: 1, varintBytes: sizes[0], packedWidth: restWidth, packedBytes: restPacked)
        }
    }

    private init(varints: Int, varintBytes: Int, packedWidth: Int, packedBytes: Int) {
        self.varints = varints
        self.varintBytes = varintBytes
        self.packedWidth = packedWidth
        self.packedBytes = packedBytes
    }
}
