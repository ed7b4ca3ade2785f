// Batch and Series in protobuf wire format (schema/telemetry/v1/telemetry.proto).
//
// Decoding checks limits as lengths become known, skips unknown fields of every wire type, accepts packed and
// unpacked encodings of the repeated fields (as every protobuf parser must), lets a repeated scalar or bytes
// field's last value win (only the last `packed_deltas` is read; empty means none), and validates the
// contract's rules (`Series.validate`) so a decoded Batch is always valid.

extension Batch {
    /// Decodes a Batch from protobuf bytes; the result satisfies every rule of the contract. Stream context (a
    /// series without a sensor, `ref`, seq 0) is refused: it is valid only through a stream's `StreamContext`.
    public init(protobuf bytes: UnsafeRawBufferPointer, limits: DecodeLimits = .standard) throws(DecodeError) {
        try self.init(decoding: bytes, limits: limits, allowsStreamContext: false)
    }

    /// Decodes a Batch; with `allowsStreamContext`, series that continue an entry and seq 0 are left for
    /// `StreamContext.resolve` to complete and validate (every other series is validated here).
    init(decoding bytes: UnsafeRawBufferPointer, limits: DecodeLimits, allowsStreamContext: Bool)
        throws(DecodeError)
    {
        guard bytes.count <= limits.maxMessageBytes else {
            throw DecodeError(.messageTooLarge(limit: limits.maxMessageBytes))
        }
        var reader = ProtobufReader(bytes)
        var seq: UInt64 = 0
        var series: [Series] = []
        while let (field, wireType) = try Self.tag(&reader, path: "") {
            switch field {
            case 1:
                try expect(wireType, .varint, path: "seq", reader: reader)
                seq = try at("seq") { () throws(DecodeError) in try reader.readVarint() }
            case 2:
                let path = "series[\(series.count)]"
                try expect(wireType, .lengthDelimited, path: path, reader: reader)
                guard series.count < limits.maxSeriesPerBatch else {
                    throw DecodeError(.tooManySeries(limit: limits.maxSeriesPerBatch), path: "series",
                                      offset: reader.position)
                }
                let range = try at(path) { () throws(DecodeError) in try reader.readLengthDelimited() }
                series.append(try Series(reader: ProtobufReader(bytes, range: range), index: series.count,
                                         limits: limits, allowsStreamContext: allowsStreamContext))
            default:
                try at("") { () throws(DecodeError) in try reader.skip(wireType, field: field) }
            }
        }
        guard seq >= 1 || allowsStreamContext else {
            throw DecodeError(.seqMustBePositive, path: "seq", offset: bytes.count)
        }
        guard seq <= Batch.maxSeq else { throw DecodeError(.valueOutOfRange, path: "seq", offset: bytes.count) }
        self.init(seq: seq, series: series)
    }

    /// Decodes a Batch from protobuf bytes held in an array or slice.
    public init(protobuf bytes: some Collection<UInt8>, limits: DecodeLimits = .standard) throws(DecodeError) {
        let result: Result<Batch, DecodeError>? = bytes.withContiguousStorageIfAvailable { buffer in
            Result { () throws(DecodeError) in try Batch(protobuf: UnsafeRawBufferPointer(buffer), limits: limits) }
        }
        if let result {
            self = try result.get()
        } else {
            self = try Batch(protobuf: Array(bytes), limits: limits)
        }
    }

    /// Exact size of `protobufBytes()`.
    public var protobufSize: Int { protobufSize(packingDeltas: false) }

    /// Exact size of `protobufBytes(packingDeltas:)`.
    public func protobufSize(packingDeltas: Bool) -> Int {
        series.reduce(ProtobufWriter.varintFieldSize(1, seq)) {
            $0 + ProtobufWriter.lengthDelimitedFieldSize(2, length: $1.protobufSize(packingDeltas: packingDeltas))
        }
    }

    /// Encodes the batch in canonical protobuf form (the bytes protoc writes for the same values); with
    /// `packingDeltas`, each series' deltas go bit-packed (`packed_deltas`) where that is smaller. Each series'
    /// split and size are worked out once, for both the lengths and the bytes.
    public func protobufBytes(packingDeltas: Bool = false) -> [UInt8] {
        let splits = series.map { DeltaSplit($0.mantissaDeltas, packing: packingDeltas) }
        let sizes = zip(series, splits).map { $0.protobufSize($1) }
        var writer = ProtobufWriter(capacity: sizes.reduce(ProtobufWriter.varintFieldSize(1, seq)) {
            $0 + ProtobufWriter.lengthDelimitedFieldSize(2, length: $1)
        })
        writer.writeVarintField(1, seq)
        for (index, entry) in series.enumerated() {
            writer.writeTag(2, .lengthDelimited)
            writer.writeVarint(UInt64(sizes[index]))
            entry.write(to: &writer, splits[index])
        }
        return writer.bytes
    }

    private static func tag(_ reader: inout ProtobufReader, path: String) throws(DecodeError)
        -> (Int, WireType)?
    {
        try at(path) { () throws(DecodeError) in try reader.readTag() }
    }
}

extension Series {
    init(reader: ProtobufReader, index: Int, limits: DecodeLimits, allowsStreamContext: Bool) throws(DecodeError) {
        var reader = reader
        let prefix = "series[\(index)]"
        var sensor = ""
        var exponent: Int32 = 0
        var startMs: Int64 = 0
        var intervalMs: UInt32 = 0
        var mantissaDeltas: [Int64] = []
        var timeDeltasMs: [UInt32] = []
        var ref: UInt32 = 0
        // Only the last occurrence of `packed_deltas` is read: a bytes field's last value wins and replaces the
        // earlier ones unread, so an earlier one can be neither refused nor counted.
        var packedRange: Range<Int>?
        while let (field, wireType) = try at(prefix, { () throws(DecodeError) in try reader.readTag() }) {
            switch field {
            case 1:
                let path = "\(prefix).sensor"
                try expect(wireType, .lengthDelimited, path: path, reader: reader)
                let range = try at(path) { () throws(DecodeError) in try reader.readLengthDelimited() }
                let name = UnsafeRawBufferPointer(rebasing: reader.base[range])
                guard Identifiers.isValidSensorName(name) else {
                    throw DecodeError(.invalidSensorName, path: path, offset: range.lowerBound)
                }
                sensor = String(decoding: name, as: UTF8.self)
            case 2:
                let path = "\(prefix).exponent"
                try expect(wireType, .varint, path: path, reader: reader)
                let start = reader.position
                let raw = try at(path) { () throws(DecodeError) in try reader.readVarint() }
                guard let value = ProtobufReader.zigzagDecode32(raw) else {
                    throw DecodeError(.valueOutOfRange, path: path, offset: start)
                }
                exponent = value
            case 3:
                let path = "\(prefix).start_ms"
                try expect(wireType, .varint, path: path, reader: reader)
                startMs = Int64(bitPattern: try at(path) { () throws(DecodeError) in try reader.readVarint() })
            case 4:
                let path = "\(prefix).interval_ms"
                try expect(wireType, .varint, path: path, reader: reader)
                intervalMs = try Self.readUInt32(&reader, path: path)
            case 5:
                let path = "\(prefix).mantissa_deltas"
                try Self.readRepeated(&reader, wireType, path: path, into: &mantissaDeltas,
                                      limit: limits.maxReadingsPerSeries)
                { (r: inout ProtobufReader) throws(DecodeError) in
                    ProtobufReader.zigzagDecode64(try r.readVarint())
                }
            case 6:
                let path = "\(prefix).time_deltas_ms"
                try Self.readRepeated(&reader, wireType, path: path, into: &timeDeltasMs,
                                      limit: limits.maxReadingsPerSeries)
                { (r: inout ProtobufReader) throws(DecodeError) in
                    try Self.readUInt32(&r, path: path)
                }
            case 8:
                let path = "\(prefix).packed_deltas"
                try expect(wireType, .lengthDelimited, path: path, reader: reader)
                packedRange = try at(path) { () throws(DecodeError) in try reader.readLengthDelimited() }
            case 7:
                let path = "\(prefix).ref"
                try expect(wireType, .varint, path: path, reader: reader)
                ref = try Self.readUInt32(&reader, path: path)
            default:
                try at(prefix) { () throws(DecodeError) in try reader.skip(wireType, field: field) }
            }
        }
        // An empty value is proto3's default for bytes, which no decoder can tell from an absent field.
        if let range = packedRange, !range.isEmpty {
            let packed = try PackedDeltas.read(UnsafeRawBufferPointer(rebasing: reader.base[range]),
                                               limit: limits.maxReadingsPerSeries, path: "\(prefix).packed_deltas",
                                               offset: range.lowerBound)
            guard mantissaDeltas.count + packed.count <= limits.maxReadingsPerSeries else {
                throw DecodeError(.tooManyReadings(limit: limits.maxReadingsPerSeries),
                                  path: "\(prefix).packed_deltas", offset: reader.end)
            }
            mantissaDeltas += packed
        }
        self.init(sensor: sensor, exponent: exponent, startMs: startMs, intervalMs: intervalMs,
                  mantissaDeltas: mantissaDeltas, timeDeltasMs: timeDeltasMs, ref: ref)
        if allowsStreamContext {
            // A continuing series is completed, then validated, by its stream's context.
            guard ref == 0 || sensor.isEmpty else { throw DecodeError(.sensorWithRef, path: "\(prefix).ref",
                                                                        offset: reader.end) }
            if sensor.isEmpty { return }
        } else if ref != 0 {
            throw DecodeError(.streamContextOutsideStream, path: "\(prefix).ref", offset: reader.end)
        }
        try validate(path: prefix, offset: reader.end)
    }

    private static func readUInt32(_ reader: inout ProtobufReader, path: String) throws(DecodeError) -> UInt32 {
        let start = reader.position
        let raw = try at(path) { () throws(DecodeError) in try reader.readVarint() }
        guard raw <= UInt64(UInt32.max) else { throw DecodeError(.valueOutOfRange, path: path, offset: start) }
        return UInt32(raw)
    }

    /// Reads one occurrence of a repeated varint field, packed or not, appending to `values` within `limit`.
    private static func readRepeated<T>(
        _ reader: inout ProtobufReader, _ wireType: WireType, path: String, into values: inout [T], limit: Int,
        element: (inout ProtobufReader) throws(DecodeError) -> T
    ) throws(DecodeError) {
        switch wireType {
        case .lengthDelimited:
            let range = try at(path) { () throws(DecodeError) in try reader.readLengthDelimited() }
            let count = reader.varintCount(in: range)
            guard values.count + count <= limit else {
                throw DecodeError(.tooManyReadings(limit: limit), path: path, offset: range.lowerBound)
            }
            values.reserveCapacity(values.count + count)
            var packed = ProtobufReader(reader.base, range: range)
            while !packed.isAtEnd {
                values.append(try at(path) { () throws(DecodeError) in try element(&packed) })
            }
        case .varint:
            guard values.count < limit else {
                throw DecodeError(.tooManyReadings(limit: limit), path: path, offset: reader.position)
            }
            values.append(try element(&reader))
        default:
            throw DecodeError(.wrongWireType(expected: "varint or packed", got: Int(wireType.rawValue)),
                              path: path, offset: reader.position)
        }
    }

    /// Exact size of the series' encoding (without its own tag and length).
    var protobufSize: Int { protobufSize(packingDeltas: false) }

    /// Exact size of the series' encoding with or without packed deltas.
    func protobufSize(packingDeltas: Bool) -> Int {
        protobufSize(DeltaSplit(mantissaDeltas, packing: packingDeltas))
    }

    /// Exact size of `write(to:_:)` with `split`.
    func protobufSize(_ split: DeltaSplit) -> Int {
        var size = sensor.utf8.isEmpty ? 0 : ProtobufWriter.lengthDelimitedFieldSize(1, length: sensor.utf8.count)
        size += ProtobufWriter.varintFieldSize(2, ProtobufWriter.zigzag32(exponent))
        size += ProtobufWriter.varintFieldSize(3, UInt64(bitPattern: startMs))
        size += ProtobufWriter.varintFieldSize(4, UInt64(intervalMs))
        size += ProtobufWriter.varintFieldSize(7, UInt64(ref))
        if split.varints > 0 {
            size += ProtobufWriter.lengthDelimitedFieldSize(5, length: split.varintBytes)
        }
        if !timeDeltasMs.isEmpty {
            size += ProtobufWriter.lengthDelimitedFieldSize(6, length: packedTimeDeltaSize)
        }
        if split.varints < mantissaDeltas.count {
            size += ProtobufWriter.lengthDelimitedFieldSize(8, length: split.packedBytes)
        }
        return size
    }

    private var packedTimeDeltaSize: Int {
        timeDeltasMs.reduce(0) { $0 + ProtobufWriter.varintSize(UInt64($1)) }
    }

    /// Writes the series with its deltas split as `split` says (`DeltaSplit` of its own deltas).
    func write(to writer: inout ProtobufWriter, _ split: DeltaSplit) {
        writer.writeBytesField(1, sensor.utf8)
        writer.writeVarintField(2, ProtobufWriter.zigzag32(exponent))
        writer.writeVarintField(3, UInt64(bitPattern: startMs))
        writer.writeVarintField(4, UInt64(intervalMs))
        if split.varints > 0 {
            writer.writeTag(5, .lengthDelimited)
            writer.writeVarint(UInt64(split.varintBytes))
            for delta in mantissaDeltas.prefix(split.varints) { writer.writeVarint(ProtobufWriter.zigzag64(delta)) }
        }
        if !timeDeltasMs.isEmpty {
            writer.writeTag(6, .lengthDelimited)
            writer.writeVarint(UInt64(packedTimeDeltaSize))
            for delta in timeDeltasMs { writer.writeVarint(UInt64(delta)) }
        }
        writer.writeVarintField(7, UInt64(ref))
        if split.varints < mantissaDeltas.count {
            writer.writeTag(8, .lengthDelimited)
            writer.writeVarint(UInt64(split.packedBytes))
            PackedDeltas.write(mantissaDeltas[split.varints...], width: split.packedWidth, to: &writer)
        }
    }
}

/// Runs a low-level read and gives any error without a path the field path `path`.
@inline(__always)
func at<T>(_ path: String, _ body: () throws(DecodeError) -> T) throws(DecodeError) -> T {
    do {
        return try body()
    } catch {
        var located = error
        if located.path.isEmpty { located.path = path }
        throw located
    }
}

/// Throws `.wrongWireType` unless a known field arrived with its declared wire type.
@inline(__always)
func expect(_ got: WireType, _ wanted: WireType, path: String, reader: ProtobufReader) throws(DecodeError) {
    guard got == wanted else {
        let name: String
        switch wanted {
        case .varint: name = "varint"
        case .lengthDelimited: name = "length-delimited"
        case .fixed32: name = "fixed32"
        case .fixed64: name = "fixed64"
        case .startGroup, .endGroup: name = "group"
        }
        throw DecodeError(.wrongWireType(expected: name, got: Int(got.rawValue)), path: path, offset: reader.position)
    }
}
