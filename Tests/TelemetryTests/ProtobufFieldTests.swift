import Testing

import Telemetry

/// Field-by-field reading and writing of protobuf messages, on bytes spelled out per field.
@Suite struct ProtobufFieldTests {
    /// One field of each wire type: varint, 64-bit, length-delimited, 32-bit, and a group (skipped).
    static let everyWireType: [UInt8] = [
        0x08, 0x96, 0x01,  // field 1, varint 150
        0x11, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // field 2, fixed64, little-endian
        0x1a, 0x03, 0x61, 0x62, 0x63,  // field 3, "abc"
        0x25, 0x01, 0x00, 0x00, 0x80,  // field 4, fixed32
        0x2b, 0x08, 0x01, 0x2c,  // field 5, a group holding field 1 = 1, then its end
        0x1a, 0x00,  // field 3 again, empty
    ]

    @Test func everyWireTypeIsReadInWireOrder() throws {
        let fields = try ProtobufField.fields(of: Self.everyWireType)
        #expect(fields == [
            ProtobufField(1, .varint(150)),
            ProtobufField(2, .fixed64(0x0807_0605_0403_0201)),
            ProtobufField(3, .lengthDelimited(Array("abc".utf8)[...])),
            ProtobufField(4, .fixed32(0x8000_0001)),
            ProtobufField(3, .lengthDelimited([])),
        ])
        #expect(fields[0].varint == 150 && fields[0].bytes == nil && fields[0].string == nil)
        #expect(fields[2].string == "abc" && fields[2].varint == nil)
    }

    @Test func nestedMessagesAreSlicesOfTheInput() throws {
        let outer: [UInt8] = [0xff, 0x0a, 0x02, 0x08, 0x07]  // a byte before, then field 1 = { field 1 = 7 }
        let fields = try ProtobufField.fields(of: outer[1...])
        let inner = try #require(fields.first?.bytes)
        #expect(inner.startIndex == 3)
        #expect(try ProtobufField.fields(of: inner) == [ProtobufField(1, .varint(7))])
    }

    @Test func invalidUTF8IsNoString() throws {
        let fields = try ProtobufField.fields(of: [0x0a, 0x02, 0xc3, 0x28])
        #expect(fields.first?.bytes == [0xc3, 0x28])
        #expect(fields.first?.string == nil)
    }

    @Test(arguments: [
        [0x0a, 0x05, 0x61] as [UInt8],  // length past the end
        [0x08, 0x80],  // truncated varint
        [0x11, 0x01, 0x02],  // truncated fixed64
        [0x00, 0x01],  // field number 0
        [0x0e],  // wire type 6
        [0x2b, 0x08, 0x01],  // a group that never ends
    ])
    func malformedMessagesThrow(bytes: [UInt8]) {
        #expect(throws: DecodeError.self) { try ProtobufField.fields(of: bytes) }
    }

    @Test func writerOmitsProto3DefaultsButNotEmbeddedMessages() {
        var writer = ProtobufMessageWriter()
        writer.appendVarint(1, 0)
        writer.appendString(2, "")
        writer.appendLengthDelimited(3, [])
        writer.appendVarint(4, 300)
        writer.appendString(5, "é")
        #expect(writer.bytes == [0x1a, 0x00, 0x20, 0xac, 0x02, 0x2a, 0x02, 0xc3, 0xa9])
    }

    @Test func writtenFieldsReadBack() throws {
        var inner = ProtobufMessageWriter()
        inner.appendString(1, "telemetry.v1.Telemetry")
        var writer = ProtobufMessageWriter()
        writer.appendVarint(1, UInt64.max)
        writer.appendLengthDelimited(2, inner.bytes)
        let fields = try ProtobufField.fields(of: writer.bytes)
        #expect(fields.map(\.number) == [1, 2])
        #expect(fields[0].varint == UInt64.max)
        #expect(try ProtobufField.fields(of: try #require(fields[1].bytes)).first?.string == "telemetry.v1.Telemetry")
    }
}
