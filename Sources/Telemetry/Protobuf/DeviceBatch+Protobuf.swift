// DeviceBatch in protobuf wire format: the device name, then the Batch as a nested message (always written: the
// field is set), in field-number order like protoc. Decoding accepts seq 0 in the nested Batch (replayed readings
// carry no seq) and validates every Series as Batch's decoder does.

extension DeviceBatch {
    /// Exact size of `protobufBytes()`.
    public var protobufSize: Int {
        let deviceSize = device.isEmpty ? 0 : ProtobufWriter.lengthDelimitedFieldSize(1, length: device.utf8.count)
        return deviceSize + ProtobufWriter.lengthDelimitedFieldSize(2, length: batch.protobufSize)
    }

    /// Encodes the message in canonical protobuf form.
    public func protobufBytes() -> [UInt8] {
        let inner = batch.protobufBytes()
        var writer = ProtobufWriter(capacity: ProtobufWriter.lengthDelimitedFieldSize(1, length: device.utf8.count)
            + ProtobufWriter.lengthDelimitedFieldSize(2, length: inner.count))
        writer.writeBytesField(1, device.utf8)
        writer.writeTag(2, .lengthDelimited)
        writer.writeVarint(UInt64(inner.count))
        writer.bytes.append(contentsOf: inner)
        return writer.bytes
    }

    /// Decodes a DeviceBatch (a Watch client's side).
    public init(protobuf bytes: some Collection<UInt8>, limits: DecodeLimits = .standard) throws(DecodeError) {
        guard bytes.count <= limits.maxMessageBytes else {
            throw DecodeError(.messageTooLarge(limit: limits.maxMessageBytes))
        }
        let array = Array(bytes)
        let result: Result<DeviceBatch, DecodeError> = array.withUnsafeBytes { buffer in
            Result { () throws(DecodeError) in try DeviceBatch(reader: ProtobufReader(buffer), limits: limits) }
        }
        self = try result.get()
    }

    private init(reader: ProtobufReader, limits: DecodeLimits) throws(DecodeError) {
        var reader = reader
        var device = ""
        var batch = Batch(seq: 0, series: [])
        while let (field, wireType) = try at("", { () throws(DecodeError) in try reader.readTag() }) {
            switch field {
            case 1:
                try expect(wireType, .lengthDelimited, path: "device", reader: reader)
                let range = try at("device") { () throws(DecodeError) in try reader.readLengthDelimited() }
                device = String(decoding: UnsafeRawBufferPointer(rebasing: reader.base[range]), as: UTF8.self)
            case 2:
                try expect(wireType, .lengthDelimited, path: "batch", reader: reader)
                let range = try at("batch") { () throws(DecodeError) in try reader.readLengthDelimited() }
                batch = try Self.batch(ProtobufReader(reader.base, range: range), limits: limits)
            default:
                try at("") { () throws(DecodeError) in try reader.skip(wireType, field: field) }
            }
        }
        self.init(device: device, batch: batch)
    }

    /// The nested Batch; unlike `Batch(protobuf:)` it takes seq 0.
    private static func batch(_ reader: ProtobufReader, limits: DecodeLimits) throws(DecodeError) -> Batch {
        var reader = reader
        var seq: UInt64 = 0
        var series: [Series] = []
        while let (field, wireType) = try at("batch", { () throws(DecodeError) in try reader.readTag() }) {
            switch field {
            case 1:
                try expect(wireType, .varint, path: "batch.seq", reader: reader)
                seq = try at("batch.seq") { () throws(DecodeError) in try reader.readVarint() }
            case 2:
                try expect(wireType, .lengthDelimited, path: "batch.series", reader: reader)
                guard series.count < limits.maxSeriesPerBatch else {
                    throw DecodeError(.tooManySeries(limit: limits.maxSeriesPerBatch), path: "batch.series")
                }
                let range = try at("batch.series") { () throws(DecodeError) in try reader.readLengthDelimited() }
                series.append(
                    try Series(
                        reader: ProtobufReader(reader.base, range: range), index: series.count, limits: limits,
                        allowsStreamContext: false))
            default:
                try at("batch") { () throws(DecodeError) in try reader.skip(wireType, field: field) }
            }
        }
        return Batch(seq: seq, series: series)
    }
}
