// Protobuf messages field by field, for code outside this module that reads or writes a few fields of messages it
// does not model as types (gRPC's Health and reflection messages, the FileDescriptorSet of schema/). The wire rules
// are ProtobufReader's and ProtobufWriter's: lengths checked against what remains, unknown wire types refused, groups
// skipped; nested messages are handed out as slices of the input, never copied.

/// One field of a protobuf message, as it is on the wire (a repeated field is one `ProtobufField` per element).
public struct ProtobufField: Equatable, Sendable {
    /// The field's value in its wire type's form; what it means depends on the field's declaration.
    public enum Value: Equatable, Sendable {
        /// int32, int64, uint32, uint64, sint32/64 (zigzag), bool and enum values.
        case varint(UInt64)
        /// fixed64, sfixed64 and double.
        case fixed64(UInt64)
        /// string, bytes, embedded messages and packed repeated values: the bytes, a slice of the input.
        case lengthDelimited(ArraySlice<UInt8>)
        /// fixed32, sfixed32 and float.
        case fixed32(UInt32)
    }

    /// The field number.
    public var number: Int
    /// The value.
    public var value: Value

    /// A field with `number` and `value`.
    public init(_ number: Int, _ value: Value) {
        self.number = number
        self.value = value
    }

    /// The bytes of a length-delimited field (string, bytes, message); nil for the other wire types.
    public var bytes: ArraySlice<UInt8>? {
        if case .lengthDelimited(let bytes) = value { bytes } else { nil }
    }

    /// The value of a `string` field; nil when the field is not length-delimited or not valid UTF-8.
    public var string: String? {
        bytes.flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// The value of a varint field; nil for the other wire types.
    public var varint: UInt64? {
        if case .varint(let value) = value { value } else { nil }
    }

    /// The fields of `message` in wire order; groups (a deprecated proto2 encoding) are skipped.
    public static func fields(of message: ArraySlice<UInt8>) throws(DecodeError) -> [ProtobufField] {
        let result: Result<[ProtobufField], DecodeError> = message.withUnsafeBytes { buffer in
            Result { () throws(DecodeError) in
                var reader = ProtobufReader(buffer)
                var fields: [ProtobufField] = []
                while let (number, wireType) = try reader.readTag() {
                    let start = reader.position
                    switch wireType {
                    case .varint:
                        fields.append(ProtobufField(number, .varint(try reader.readVarint())))
                    case .lengthDelimited:
                        let range = try reader.readLengthDelimited()
                        let base = message.startIndex
                        fields.append(ProtobufField(
                            number, .lengthDelimited(message[(base + range.lowerBound)..<(base + range.upperBound)])))
                    case .fixed64:
                        try reader.skip(wireType, field: number)
                        fields.append(ProtobufField(number, .fixed64(littleEndian(buffer, start..<reader.position))))
                    case .fixed32:
                        try reader.skip(wireType, field: number)
                        let value = UInt32(truncatingIfNeeded: littleEndian(buffer, start..<reader.position))
                        fields.append(ProtobufField(number, .fixed32(value)))
                    case .startGroup, .endGroup:
                        try reader.skip(wireType, field: number)
                    }
                }
                return fields
            }
        }
        return try result.get()
    }

    /// The fields of `message` (see the slice form).
    public static func fields(of message: [UInt8]) throws(DecodeError) -> [ProtobufField] {
        try fields(of: message[...])
    }

    private static func littleEndian(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) -> UInt64 {
        range.reversed().reduce(0) { $0 << 8 | UInt64(buffer[$1]) }
    }
}

/// Writes a protobuf message field by field, in the order the caller appends them (write them in field-number
/// order to get the bytes protoc would).
public struct ProtobufMessageWriter: Sendable {
    private var writer = ProtobufWriter(capacity: 0)

    /// An empty message.
    public init() {}

    /// The message so far.
    public var bytes: [UInt8] { writer.bytes }

    /// A varint field, omitted when 0 (the proto3 default of a field without presence).
    public mutating func appendVarint(_ field: Int, _ value: UInt64) {
        writer.writeVarintField(field, value)
    }

    /// A string field, omitted when empty (the proto3 default).
    public mutating func appendString(_ field: Int, _ value: String) {
        writer.writeBytesField(field, value.utf8)
    }

    /// A length-delimited field written even when empty: an embedded message (whose presence is information, as
    /// in a oneof), or one element of a repeated bytes or message field.
    public mutating func appendLengthDelimited(_ field: Int, _ value: some Collection<UInt8>) {
        writer.writeTag(field, .lengthDelimited)
        writer.writeVarint(UInt64(value.count))
        writer.bytes.append(contentsOf: value)
    }
}
