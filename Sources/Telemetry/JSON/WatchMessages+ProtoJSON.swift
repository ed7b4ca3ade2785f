// The Watch messages in protobuf's canonical proto3 JSON mapping, for Connect's server streaming
// (`application/connect+json`):
//
//     WatchRequest  {"devices":["dev-1"],"sensors":["temperature"],"sinceMs":"1732190000000"}
//     DeviceBatch   {"device":"dev-1","batch":{"seq":"17","series":[…]}}
//
// Decoding takes either field spelling (`sinceMs` or `since_ms`), the 64-bit `sinceMs` as a string or a number,
// `null` as the default; an unknown or repeated field, or a wrong type, is an error naming its path, as for
// `Batch` (Batch+ProtoJSON.swift, whose writer the DeviceBatch's batch uses).

extension WatchRequest {
    /// Decodes a WatchRequest from proto3 JSON (see the file comment).
    public init(protoJSON bytes: some Collection<UInt8>) throws(DecodeError) {
        self = try JSONScanner.scan(bytes) { (scanner) throws(DecodeError) -> WatchRequest in
            let kind = try scanner.peekKind()
            guard kind == .object else {
                throw scanner.protoJSONMismatch(expected: "an object (a WatchRequest)", got: kind)
            }
            try scanner.beginObject()
            var request = WatchRequest()
            var seen: Set<Int> = []
            while let key = try scanner.nextKey() {
                let keyOffset = key.range.lowerBound - 1
                let name = scanner.string(key)
                let field: Int
                if scanner.string(key, equals: "devices") {
                    field = 1
                } else if scanner.string(key, equals: "sensors") {
                    field = 2
                } else if scanner.string(key, equals: "sinceMs") || scanner.string(key, equals: "since_ms") {
                    field = 3
                } else {
                    throw DecodeError(.unknownField, path: DecodeError.path("", key: name), offset: keyOffset)
                }
                guard seen.insert(field).inserted else {
                    throw DecodeError(.duplicateField, path: name, offset: keyOffset)
                }
                do throws(DecodeError) {
                    if try scanner.readNullAsDefault() { continue }
                    switch field {
                    case 1: request.devices = try Self.readStrings(&scanner, field: name)
                    case 2: request.sensors = try Self.readStrings(&scanner, field: name)
                    default: request.sinceMs = try scanner.readProtoJSONInt64(.int64)
                    }
                } catch {
                    throw error.located(at: name)
                }
            }
            try scanner.finish()
            return request
        }
    }

    /// A JSON array of strings (`field` names it in errors).
    private static func readStrings(_ scanner: inout JSONScanner, field: String) throws(DecodeError) -> [String] {
        let kind = try scanner.peekKind()
        guard kind == .array else { throw scanner.protoJSONMismatch(expected: "an array of strings", got: kind) }
        try scanner.beginArray()
        var strings: [String] = []
        while try scanner.nextElement() {
            do throws(DecodeError) {
                strings.append(scanner.string(try scanner.readProtoJSONString()))
            } catch {
                throw error.located(at: "\(field)[\(strings.count)]")
            }
        }
        return strings
    }

    /// The request as canonical proto3 JSON (default-valued fields left out).
    public func protoJSONBytes() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 64)
        writer.beginObject()
        for (name, values) in [("devices", devices), ("sensors", sensors)] where !values.isEmpty {
            writer.key(name)
            writer.beginArray()
            for value in values { writer.value(value) }
            writer.endArray()
        }
        if sinceMs != 0 {
            writer.key("sinceMs")
            writer.value(String(sinceMs))
        }
        writer.endObject()
        return writer.bytes
    }
}

extension DeviceBatch {
    /// The message as canonical proto3 JSON: the device, then the batch as `Batch.protoJSONBytes` writes it.
    public func protoJSONBytes() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 64 + batch.series.count * 96)
        writer.beginObject()
        if !device.isEmpty {
            writer.key("device")
            writer.value(device)
        }
        writer.key("batch")
        batch.writeProtoJSON(to: &writer, packingDeltas: false)
        writer.endObject()
        return writer.bytes
    }
}
