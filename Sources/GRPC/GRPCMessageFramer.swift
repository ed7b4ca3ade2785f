// gRPC's length-prefixed messages, the same on every transport (HTTP/2, gRPC-Web): 1 byte compressed flag,
// 4 bytes big-endian length, then the message.

/// Writes gRPC length-prefixed messages.
public enum GRPCMessageFramer {
    /// Bytes of the prefix in front of every message.
    public static let prefixLength = 5

    /// Appends one uncompressed message with its prefix to `buffer`.
    public static func append(_ message: some Collection<UInt8>, to buffer: inout [UInt8]) {
        let length = UInt32(message.count)
        buffer.append(0)
        buffer.append(UInt8(truncatingIfNeeded: length >> 24))
        buffer.append(UInt8(truncatingIfNeeded: length >> 16))
        buffer.append(UInt8(truncatingIfNeeded: length >> 8))
        buffer.append(UInt8(truncatingIfNeeded: length))
        buffer.append(contentsOf: message)
    }

    /// One message with its prefix.
    public static func frame(_ message: some Collection<UInt8>) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(prefixLength + message.count)
        append(message, to: &buffer)
        return buffer
    }
}
