// The Connect protocol's envelopes, for streaming calls (`application/connect+proto`, `application/connect+json`):
// one flags byte, a 4-byte big-endian length, then the bytes. Flag 0x01 marks a compressed message (we negotiate
// no compression, so a client must not set it); flag 0x02 marks the end-of-stream envelope, which only the server
// sends, last, in place of gRPC's trailers: a JSON object with the error, if the call failed, and trailing
// metadata, if any,
//
//     {}    {"error":{"code":"resource_exhausted","message":"…"},"metadata":{"x-name":["a","b"]}}
//
// always JSON whatever the codec of the messages. A server-streaming request is one envelope holding the request
// message, then the end of the request body; `ConnectEnvelopeReader` splits a request body into its messages,
// checking each length against the limit as soon as the prefix is in, before the message is buffered.

import Telemetry

/// Writing and reading Connect envelopes.
public enum ConnectEnvelope {
    /// Bytes of the prefix in front of every envelope.
    public static let prefixLength = 5
    /// The flag of a compressed message.
    public static let compressedFlag: UInt8 = 0x01
    /// The flag of the end-of-stream envelope.
    public static let endStreamFlag: UInt8 = 0x02

    /// One message in an envelope (flags 0x00).
    public static func frame(message: some Collection<UInt8>) -> [UInt8] {
        envelope(flags: 0, message)
    }

    /// The end-of-stream envelope: `{}` after a call that succeeded, `{"error":{"code","message"}}` after one that
    /// failed (a status whose code is OK counts as success), with `"metadata"` when trailers are given.
    public static func endStream(error: GRPCStatus?, metadata: GRPCMetadata = GRPCMetadata()) -> [UInt8] {
        envelope(flags: endStreamFlag, endStreamJSON(error: error, metadata: metadata))
    }

    /// The end-of-stream message (without its prefix).
    public static func endStreamJSON(error: GRPCStatus?, metadata: GRPCMetadata = GRPCMetadata()) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 64 + (error?.message.utf8.count ?? 0))
        writer.beginObject()
        if let error, error.code != .ok {
            writer.key("error")
            error.writeConnectError(to: &writer)
        }
        if !metadata.isEmpty {
            writer.key("metadata")
            writer.beginObject()
            var written: Set<String> = []
            for field in metadata where written.insert(field.name.lowercased()).inserted {
                writer.key(field.name.lowercased())
                writer.beginArray()
                for value in metadata.values(for: field.name) { writer.value(value) }
                writer.endArray()
            }
            writer.endObject()
        }
        writer.endObject()
        return writer.bytes
    }

    /// Reads an end-of-stream message (a client's side): the call's status (OK when it has no error) and its
    /// trailing metadata; nil when it is not the JSON object the protocol defines.
    public static func parseEndStream(_ message: some Collection<UInt8>) -> (GRPCStatus, GRPCMetadata)? {
        guard let object = try? JSONValue.parse(message), object.objectValue != nil else { return nil }
        var status = GRPCStatus.ok
        if let error = object["error"], !error.isNull {
            guard let named = GRPCStatus(connectError: error) else { return nil }
            status = named
        }
        var metadata = GRPCMetadata()
        if let fields = object["metadata"], !fields.isNull {
            guard let members = fields.objectValue else { return nil }
            for member in members {
                guard let values = member.value.arrayValue else { return nil }
                for value in values {
                    guard let text = value.stringValue else { return nil }
                    metadata.append(member.key, text)
                }
            }
        }
        return (status, metadata)
    }

    private static func envelope(flags: UInt8, _ payload: some Collection<UInt8>) -> [UInt8] {
        let length = UInt32(payload.count)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(prefixLength + payload.count)
        bytes += [
            flags, UInt8(truncatingIfNeeded: length >> 24), UInt8(truncatingIfNeeded: length >> 16),
            UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length),
        ]
        bytes += payload
        return bytes
    }
}

/// Splits a Connect streaming request body into its messages, from pieces split anywhere.
///
/// Refuses what a client must not send, with the status to answer: a compressed envelope (unimplemented: we
/// negotiate no compression), an end-of-stream envelope (invalid_argument: only the server ends a stream that
/// way), other flags (invalid_argument), a message over the limit (resource_exhausted, as soon as its prefix is in)
/// and, at `finish()`, a body that ends inside an envelope (invalid_argument).
public struct ConnectEnvelopeReader: Sendable {
    /// Largest message accepted.
    public let maxMessageBytes: Int
    /// Bytes of an envelope not yet complete.
    private var pending: [UInt8] = []
    /// Messages delivered so far.
    public private(set) var messageCount = 0

    /// Refuses messages over `maxMessageBytes` (4 MiB by default).
    public init(maxMessageBytes: Int = 4 << 20) {
        self.maxMessageBytes = maxMessageBytes
    }

    /// Bytes held while waiting for the rest of an envelope.
    public var bufferedBytes: Int { pending.count }

    /// Takes the next piece of the body; returns the messages it completes, in order.
    public mutating func append(_ piece: some Collection<UInt8>) throws(GRPCStatus) -> [[UInt8]] {
        pending.append(contentsOf: piece)
        var messages: [[UInt8]] = []
        var start = 0
        while pending.count - start >= ConnectEnvelope.prefixLength {
            let length = try checkedLength(at: start)
            let end = start + ConnectEnvelope.prefixLength + length
            guard end <= pending.count else { break }
            messages.append(Array(pending[(start + ConnectEnvelope.prefixLength)..<end]))
            messageCount += 1
            start = end
        }
        pending.removeFirst(start)
        return messages
    }

    /// Call at the end of the body: throws when it ended inside an envelope.
    public func finish() throws(GRPCStatus) {
        guard pending.isEmpty else {
            throw GRPCStatus(
                .invalidArgument, "the request body ends inside an envelope (\(pending.count) bytes of it)")
        }
    }

    /// Checks the prefix at `index`: the flags, then the length against the limit.
    private func checkedLength(at index: Int) throws(GRPCStatus) -> Int {
        let flags = pending[index]
        switch flags {
        case 0: break
        case ConnectEnvelope.compressedFlag:
            throw GRPCStatus(
                .unimplemented,
                "compressed envelope, but no connect-content-encoding was negotiated "
                    + "(only identity is supported)")
        case ConnectEnvelope.endStreamFlag, ConnectEnvelope.endStreamFlag | ConnectEnvelope.compressedFlag:
            throw GRPCStatus(
                .invalidArgument,
                "end-of-stream envelope (flags 0x0\(String(flags, radix: 16))) from "
                    + "the client: only the server ends a stream with one")
        default:
            throw GRPCStatus(.invalidArgument, "invalid envelope flags 0x\(String(flags, radix: 16))")
        }
        let length =
            Int(pending[index + 1]) << 24 | Int(pending[index + 2]) << 16 | Int(pending[index + 3]) << 8
            | Int(pending[index + 4])
        guard length <= maxMessageBytes else {
            throw GRPCStatus(
                .resourceExhausted, "message of \(length) bytes exceeds the limit of \(maxMessageBytes) bytes")
        }
        return length
    }
}
