// Ack in protobuf wire format: four uint64 fields, defaults omitted.

extension Ack {
    /// Decodes an Ack from protobuf bytes, skipping unknown fields.
    public init(protobuf bytes: some Collection<UInt8>) throws(DecodeError) {
        let array = Array(bytes)
        let result: Result<Ack, DecodeError> = array.withUnsafeBytes { buffer in
            Result { () throws(DecodeError) in try Ack(reader: ProtobufReader(buffer)) }
        }
        self = try result.get()
    }

    private init(reader: ProtobufReader) throws(DecodeError) {
        var reader = reader
        var ack = Ack()
        let names = [1: "batches", 2: "readings", 3: "duplicate_batches", 4: "last_seq"]
        while let (field, wireType) = try at("", { () throws(DecodeError) in try reader.readTag() }) {
            guard let name = names[field] else {
                try at("") { () throws(DecodeError) in try reader.skip(wireType, field: field) }
                continue
            }
            try expect(wireType, .varint, path: name, reader: reader)
            let value = try at(name) { () throws(DecodeError) in try reader.readVarint() }
            switch field {
            case 1: ack.batches = value
            case 2: ack.readings = value
            case 3: ack.duplicateBatches = value
            default: ack.lastSeq = value
            }
        }
        self = ack
    }

    /// Exact size of `protobufBytes()`.
    public var protobufSize: Int {
        ProtobufWriter.varintFieldSize(1, batches) + ProtobufWriter.varintFieldSize(2, readings)
            + ProtobufWriter.varintFieldSize(3, duplicateBatches) + ProtobufWriter.varintFieldSize(4, lastSeq)
    }

    /// Encodes the Ack in canonical protobuf form.
    public func protobufBytes() -> [UInt8] {
        var writer = ProtobufWriter(capacity: protobufSize)
        writer.writeVarintField(1, batches)
        writer.writeVarintField(2, readings)
        writer.writeVarintField(3, duplicateBatches)
        writer.writeVarintField(4, lastSeq)
        return writer.bytes
    }
}
