// Helpers shared by the JSON tests: inputs whose expected error offset is marked in place (the seeded generator is in TestSupport.swift).

@testable import Telemetry

/// An input with its expected error position marked by `‸`: `bytes` is the input without the mark, `offset` is
/// the byte position of the mark (−1 when there is none).
struct Marked: CustomStringConvertible, Sendable {
    let bytes: [UInt8]
    let offset: Int
    let description: String

    init(_ text: String) {
        let marker = Array("‸".utf8)
        var bytes = Array(text.utf8)
        var offset = -1
        let starts = bytes.count >= marker.count ? Array(0...(bytes.count - marker.count)) : []
        if let at = starts.first(where: { Array(bytes[$0..<($0 + marker.count)]) == marker }) {
            offset = at
            bytes.removeSubrange(at..<(at + marker.count))
        }
        self.bytes = bytes
        self.offset = offset
        self.description = String(decoding: bytes, as: UTF8.self)
    }
}

/// Parsing `bytes` as a JSONValue, the error it throws (nil when it parses).
func valueError(_ bytes: [UInt8]) -> DecodeError? {
    do {
        _ = try JSONValue.parse(bytes)
        return nil
    } catch {
        return error
    }
}

extension Array where Element == UInt8 {
    /// The bytes as text, for messages.
    var text: String { String(decoding: self, as: UTF8.self) }
}
