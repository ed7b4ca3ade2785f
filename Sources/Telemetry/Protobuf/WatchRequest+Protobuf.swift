// WatchRequest in protobuf wire format: two repeated strings and an int64, defaults omitted, fields in number
// order (the bytes protoc writes). Decoding skips unknown fields and checks counts at the length field.

extension WatchRequest {
    /// Most device or sensor names a request may list.
    public static let maxNames = 10_000

    /// Decodes a WatchRequest; the names are not checked against the id rules here (the call names bad ones).
    public init(protobuf bytes: some Collection<UInt8>, limits: DecodeLimits = .standard) throws(DecodeError) {
        guard bytes.count <= limits.maxMessageBytes else {
            throw DecodeError(.messageTooLarge(limit: limits.maxMessageBytes))
        }
        let array = Array(bytes)
        let result: Result<WatchRequest, DecodeError> = array.withUnsafeBytes { buffer in
            Result { () throws(DecodeError) in try WatchRequest(reader: ProtobufReader(buffer)) }
        }
        self = try result.get()
    }

    private init(reader: ProtobufReader) throws(DecodeError) {
        var reader = reader
        var request = WatchRequest()
        while let (field, wireType) = try at("", { () throws(DecodeError) in try reader.readTag() }) {
            switch field {
            case 1, 2:
                let path = field == 1 ? "devices" : "sensors"
                try expect(wireType, .lengthDelimited, path: path, reader: reader)
                guard (field == 1 ? request.devices.count : request.sensors.count) < Self.maxNames else {
                    throw DecodeError(.expected("at most \(Self.maxNames) names"), path: path, offset: reader.position)
                }
                let range = try at(path) { () throws(DecodeError) in try reader.readLengthDelimited() }
                let name = String(decoding: UnsafeRawBufferPointer(rebasing: reader.base[range]), as: UTF8.self)
                if field == 1 { request.devices.append(name) } else { request.sensors.append(name) }
            case 3:
                try expect(wireType, .varint, path: "since_ms", reader: reader)
                let raw = try at("since_ms") { () throws(DecodeError) in try reader.readVarint() }
                request.sinceMs = Int64(bitPattern: raw)
            default:
                try at("") { () throws(DecodeError) in try reader.skip(wireType, field: field) }
            }
        }
        self = request
    }

    /// Exact size of `protobufBytes()`.
    public var protobufSize: Int {
        var size = 0
        for name in devices { size += ProtobufWriter.lengthDelimitedFieldSize(1, length: name.utf8.count) }
        for name in sensors { size += ProtobufWriter.lengthDelimitedFieldSize(2, length: name.utf8.count) }
        return size + ProtobufWriter.varintFieldSize(3, UInt64(bitPattern: sinceMs))
    }

    /// Encodes the request in canonical protobuf form (repeated strings are written even when empty, as protoc does).
    public func protobufBytes() -> [UInt8] {
        var writer = ProtobufWriter(capacity: protobufSize)
        for name in devices { writer.writeStringField(1, name) }
        for name in sensors { writer.writeStringField(2, name) }
        writer.writeVarintField(3, UInt64(bitPattern: sinceMs))
        return writer.bytes
    }
}

extension ProtobufWriter {
    /// Writes one element of a repeated string field: always, even when empty (it still counts as an element).
    mutating func writeStringField(_ field: Int, _ value: String) {
        writeTag(field, .lengthDelimited)
        writeVarint(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }
}
