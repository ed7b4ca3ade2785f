// Base64 for `bytes` fields in protobuf's canonical JSON mapping: written in the standard alphabet with padding
// (RFC 4648 §4), read in either the standard or the URL-safe alphabet (§5), with or without padding, as the
// proto3 JSON rules ask of a parser.
//
// Reading rules: one value uses one alphabet (`+`/`/` or `-`/`_`, not both); padding, when present, is the one
// or two `=` that complete the last 4-character group and nothing follows it; without padding the length must
// not leave a single character in the last group (it would carry only 6 bits). Unused bits of the last
// character are ignored, as Go's and protobuf's decoders do.

/// Base64 as the proto3 JSON mapping writes and reads it.
enum ProtoJSONBase64 {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Why a value is not base64, with the offset of the offending character in the text.
    struct Failure: Error, Equatable {
        /// What is wrong, phrased to follow "expected base64, got …".
        var text: String
        /// Offset in the encoded text.
        var offset: Int
    }

    /// `bytes` in the standard alphabet, padded.
    static func encode(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let first = iterator.next() {
            let second = iterator.next()
            let third = iterator.next()
            let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
            out.append(alphabet[Int(group >> 18 & 0x3F)])
            out.append(alphabet[Int(group >> 12 & 0x3F)])
            out.append(second == nil ? UInt8(ascii: "=") : alphabet[Int(group >> 6 & 0x3F)])
            out.append(third == nil ? UInt8(ascii: "=") : alphabet[Int(group & 0x3F)])
        }
        return out
    }

    /// The six-bit value of `byte` in either alphabet, and which alphabet it belongs to only (nil for the shared
    /// letters and digits): true for URL-safe.
    @inline(__always)
    private static func sextet(_ byte: UInt8) -> (UInt8, isURLSafe: Bool?)? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): (byte - UInt8(ascii: "A"), nil)
        case UInt8(ascii: "a")...UInt8(ascii: "z"): (byte - UInt8(ascii: "a") + 26, nil)
        case UInt8(ascii: "0")...UInt8(ascii: "9"): (byte - UInt8(ascii: "0") + 52, nil)
        case UInt8(ascii: "+"): (62, false)
        case UInt8(ascii: "/"): (63, false)
        case UInt8(ascii: "-"): (62, true)
        case UInt8(ascii: "_"): (63, true)
        default: nil
        }
    }

    /// Decodes standard or URL-safe base64, padded or not.
    static func decode(_ text: UnsafeRawBufferPointer) throws(Failure) -> [UInt8] {
        var end = text.count
        while end > 0 && text[end - 1] == UInt8(ascii: "=") { end -= 1 }
        let padding = text.count - end
        if padding > 0 {
            guard text.count % 4 == 0, padding <= 2 else {
                throw Failure(text: "wrong padding (\(padding) '=' for \(text.count) characters)", offset: end)
            }
        }
        guard end % 4 != 1 else {
            throw Failure(text: "a length that leaves one character in the last group", offset: end - 1)
        }
        var out: [UInt8] = []
        out.reserveCapacity(end / 4 * 3 + 2)
        var isURLSafe: Bool?
        var accumulator: UInt32 = 0
        var bits = 0
        for i in 0..<end {
            let byte = text[i]
            guard let (value, alphabet) = sextet(byte) else {
                let shown = byte == UInt8(ascii: "=") ? "'=' before the end" : Self.describe(byte)
                throw Failure(text: "\(shown) at character \(i)", offset: i)
            }
            if let alphabet {
                if let chosen = isURLSafe, chosen != alphabet {
                    throw Failure(text: "both the standard and the URL-safe alphabet (character \(i))", offset: i)
                }
                isURLSafe = alphabet
            }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        return out
    }

    /// A byte as an error shows it: the character when printable ASCII, else its hex value.
    private static func describe(_ byte: UInt8) -> String {
        (0x21...0x7E).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
    }
}
