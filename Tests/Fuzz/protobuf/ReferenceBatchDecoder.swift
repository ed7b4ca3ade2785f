// A second, deliberately plain protobuf decoder for Batch, written from the contract (telemetry.proto and the rules
// in Batch+Protobuf.swift's header) without the module's reader, writer or validation code, so the harness can
// require that both decoders accept exactly the same inputs with the same values.
//
// Rules: proto3 wire format; varints of at most 10 bytes (the 10th at most 1); field numbers 1…2^29−1; wire types
// 0, 1, 2, 3 (group, skipped with its nesting, at most 32 deep), 5; unknown fields of every type skipped; a known
// field with the wrong wire type refused; scalar fields: last value wins; repeated fields packed or not; uint32 and
// sint32 values over 32 bits refused; every sensor occurrence checked; then the Series rules (name, exponent
// −30…30, interval xor n−1 time deltas, no Int64 overflow in mantissa sums or timestamps), seq 1…2^63−1 and the
// limits (series per batch, readings per series, message bytes).
//
// The two fields that came with stream context and packing, as telemetry.proto states them:
// - `ref` (7, uint32, varint): last value wins; a nonzero final value is stream context, which a plain decode
//   refuses (only `StreamContext` takes it). So is a series without a sensor and seq 0, as before.
// - `packed_deltas` (8, bytes): last occurrence wins, and only that value is read (an earlier one is replaced
//   unread, as for any bytes field); an empty value is proto3's default, the same as no field. Otherwise: varint
//   n, one width byte w ≤ 64, exactly ⌈n·w/8⌉ more bytes, bit k of the run in bit k mod 8 of byte k/8, zigzag
//   values of w bits, unused high bits of the last byte 0. Its deltas follow every `mantissa_deltas` value,
//   wherever field 8 lies, and the total is bounded by the readings limit.

/// The reference decoder: nil for every input the contract refuses.
enum ReferenceBatchDecoder {
    struct Refused: Error {}

    /// A cursor over `bytes[position..<end]`.
    struct Cursor {
        let bytes: [UInt8]
        var position: Int
        let end: Int

        var isAtEnd: Bool { position >= end }

        mutating func varint() throws(Refused) -> UInt64 {
            var result: UInt64 = 0
            for index in 0..<10 {
                guard position < end else { throw Refused() }
                let byte = bytes[position]
                position += 1
                if index == 9 && byte > 1 { throw Refused() }
                result |= UInt64(byte & 0x7F) << UInt64(7 * index)
                if byte < 0x80 { return result }
            }
            throw Refused()
        }

        mutating func tag() throws(Refused) -> (field: UInt64, wireType: UInt64) {
            let tag = try varint()
            let field = tag >> 3
            guard field >= 1, field <= 0x1FFF_FFFF, [0, 1, 2, 3, 4, 5].contains(tag & 7) else { throw Refused() }
            return (field, tag & 7)
        }

        mutating func lengthDelimited() throws(Refused) -> Cursor {
            let length = try varint()
            guard length <= UInt64(end - position) else { throw Refused() }
            let inner = Cursor(bytes: bytes, position: position, end: position + Int(length))
            position += Int(length)
            return inner
        }

        mutating func skip(field: UInt64, wireType: UInt64, depth: Int) throws(Refused) {
            switch wireType {
            case 0: _ = try varint()
            case 1, 5:
                let size = wireType == 1 ? 8 : 4
                guard end - position >= size else { throw Refused() }
                position += size
            case 2: _ = try lengthDelimited()
            case 3:
                guard depth < 32 else { throw Refused() }
                while true {
                    guard !isAtEnd else { throw Refused() }
                    let inner = try tag()
                    if inner.wireType == 4 {
                        guard inner.field == field else { throw Refused() }
                        return
                    }
                    try skip(field: inner.field, wireType: inner.wireType, depth: depth + 1)
                }
            default: throw Refused()  // an end-group without its start
            }
        }

        /// The values of one occurrence of a repeated varint field, packed (wire type 2) or not (0).
        mutating func repeatedVarints(wireType: UInt64) throws(Refused) -> [UInt64] {
            switch wireType {
            case 0: return [try varint()]
            case 2:
                var packed = try lengthDelimited()
                var values: [UInt64] = []
                while !packed.isAtEnd { values.append(try packed.varint()) }
                return values
            default: throw Refused()
            }
        }
    }

    static func decode(_ bytes: [UInt8], limits: DecodeLimits = .standard) -> Batch? {
        try? batch(bytes, limits: limits)
    }

    static func batch(_ bytes: [UInt8], limits: DecodeLimits) throws(Refused) -> Batch {
        guard bytes.count <= limits.maxMessageBytes else { throw Refused() }
        var cursor = Cursor(bytes: bytes, position: 0, end: bytes.count)
        var seq: UInt64 = 0
        var series: [Series] = []
        while !cursor.isAtEnd {
            let (field, wireType) = try cursor.tag()
            switch field {
            case 1:
                guard wireType == 0 else { throw Refused() }
                seq = try cursor.varint()
            case 2:
                guard wireType == 2, series.count < limits.maxSeriesPerBatch else { throw Refused() }
                series.append(try self.series(try cursor.lengthDelimited(), limits: limits))
            default:
                try cursor.skip(field: field, wireType: wireType, depth: 0)
            }
        }
        guard seq >= 1, seq <= UInt64(Int64.max) else { throw Refused() }
        return Batch(seq: seq, series: series)
    }

    static func series(_ cursor: Cursor, limits: DecodeLimits) throws(Refused) -> Series {
        var cursor = cursor
        var sensor: [UInt8] = []
        var exponent: Int32 = 0
        var startMs: Int64 = 0
        var intervalMs: UInt32 = 0
        var mantissas: [Int64] = []
        var gaps: [UInt32] = []
        var ref: UInt64 = 0
        var packed: [UInt8] = []
        while !cursor.isAtEnd {
            let (field, wireType) = try cursor.tag()
            switch field {
            case 1:
                guard wireType == 2 else { throw Refused() }
                let name = try cursor.lengthDelimited()
                sensor = Array(cursor.bytes[name.position..<name.end])
                guard isSensorName(sensor) else { throw Refused() }
            case 2, 3, 4:
                guard wireType == 0 else { throw Refused() }
                let raw = try cursor.varint()
                if field == 3 {
                    startMs = Int64(bitPattern: raw)
                } else {
                    guard raw <= UInt64(UInt32.max) else { throw Refused() }
                    let value = UInt32(raw)
                    if field == 2 {
                        exponent = Int32(bitPattern: (value >> 1) ^ (0 &- (value & 1)))
                    } else {
                        intervalMs = value
                    }
                }
            case 5:
                for raw in try cursor.repeatedVarints(wireType: wireType) {
                    mantissas.append(Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))))
                }
                guard mantissas.count <= limits.maxReadingsPerSeries else { throw Refused() }
            case 6:
                for raw in try cursor.repeatedVarints(wireType: wireType) {
                    guard raw <= UInt64(UInt32.max) else { throw Refused() }
                    gaps.append(UInt32(raw))
                }
                guard gaps.count <= limits.maxReadingsPerSeries else { throw Refused() }
            case 7:
                guard wireType == 0 else { throw Refused() }
                ref = try cursor.varint()
                guard ref <= UInt64(UInt32.max) else { throw Refused() }
            case 8:
                guard wireType == 2 else { throw Refused() }
                let value = try cursor.lengthDelimited()
                packed = Array(cursor.bytes[value.position..<value.end])
            default:
                try cursor.skip(field: field, wireType: wireType, depth: 0)
            }
        }
        guard ref == 0 else { throw Refused() }  // stream context, refused outside a stream
        if !packed.isEmpty {
            mantissas += try packedDeltas(packed, limit: limits.maxReadingsPerSeries)
            guard mantissas.count <= limits.maxReadingsPerSeries else { throw Refused() }
        }
        // The Series rules.
        guard isSensorName(sensor), (-30...30).contains(exponent) else { throw Refused() }
        if intervalMs > 0 {
            guard gaps.isEmpty else { throw Refused() }
        } else {
            guard gaps.count == max(mantissas.count - 1, 0) else { throw Refused() }
        }
        var sum: Int64 = 0
        for delta in mantissas {
            let (next, overflow) = sum.addingReportingOverflow(delta)
            guard !overflow else { throw Refused() }
            sum = next
        }
        var ts = startMs
        for index in 1..<max(mantissas.count, 1) {
            let (next, overflow) = ts.addingReportingOverflow(Int64(intervalMs > 0 ? intervalMs : gaps[index - 1]))
            guard !overflow else { throw Refused() }
            ts = next
        }
        return Series(
            sensor: String(decoding: sensor, as: UTF8.self), exponent: exponent, startMs: startMs,
            intervalMs: intervalMs, mantissaDeltas: mantissas, timeDeltasMs: gaps)
    }

    /// The deltas of a non-empty `packed_deltas` value, read bit by bit; n is checked against `limit` before the
    /// deltas are allocated.
    static func packedDeltas(_ run: [UInt8], limit: Int) throws(Refused) -> [Int64] {
        var cursor = Cursor(bytes: run, position: 0, end: run.count)
        let n = try cursor.varint()
        guard n <= UInt64(limit), !cursor.isAtEnd else { throw Refused() }
        let width = Int(run[cursor.position])
        let bitsStart = 8 * (cursor.position + 1)
        guard width <= 64, run.count - (cursor.position + 1) == (Int(n) * width + 7) / 8 else { throw Refused() }
        func bit(_ k: Int) -> UInt64 { UInt64(run[(bitsStart + k) / 8] >> UInt8((bitsStart + k) % 8)) & 1 }
        var deltas: [Int64] = []
        for index in 0..<Int(n) {
            var zigzag: UInt64 = 0
            for b in 0..<width { zigzag |= bit(index * width + b) << UInt64(b) }
            deltas.append(Int64(bitPattern: (zigzag >> 1) ^ (0 &- (zigzag & 1))))
        }
        for k in (Int(n) * width)..<(8 * run.count - bitsStart) {
            guard bit(k) == 0 else { throw Refused() }
        }
        return deltas
    }

    /// `[a-z0-9_.-]{1,64}`.
    static func isSensorName(_ bytes: [UInt8]) -> Bool {
        (1...64).contains(bytes.count)
            && bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || "_.-".utf8.contains($0) }
    }
}
