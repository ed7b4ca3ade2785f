// Scalar values of protobuf's canonical proto3 JSON mapping, read with the strict scanner (the rules of
// protobuf.dev/programming-guides/json):
// - every integer type is accepted as a JSON number or as a string holding one (64-bit ones are written as
//   strings, because JavaScript numbers lose precision past 2^53); a fraction or an exponent is accepted only when
//   the value is a whole number (`1e3`, `1.50e2`), and a value outside the field's type is refused, never clamped;
// - `bytes` are base64, standard or URL-safe, padded or not (`ProtoJSONBase64`);
// - `null` is the field's default value (callers test for it with `readNullAsDefault()` first).
//
// Errors carry no path (the caller adds it) and the offset of the value. A wrong type is `.expected("a uint32
// (number or string), got an array")`: what the field takes and what came.

extension JSONScanner {
    /// The proto3 JSON integer types, by the name errors use.
    enum ProtoJSONInteger: String {
        case int64, uint64, sint64, uint32, sint32

        /// The phrase naming what the field takes: `an int64 (number or string)`.
        var expectation: String {
            let article = self == .uint64 || self == .uint32 ? "a" : "an"
            return "\(article) \(rawValue) (number or string)"
        }

        /// Smallest and largest value of the type, as sign-magnitude bounds.
        var bounds: (negative: UInt64, positive: UInt64) {
            switch self {
            case .int64, .sint64: (UInt64(Int64.max) + 1, UInt64(Int64.max))
            case .uint64: (0, .max)
            case .uint32: (0, UInt64(UInt32.max))
            case .sint32: (UInt64(Int32.max) + 1, UInt64(Int32.max))
            }
        }
    }

    /// The phrase naming what kind of value comes next, for "got …": `an array`, `a string`, `null`.
    func describeNext(_ kind: Kind) -> String {
        switch kind {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        }
    }

    /// The error for a value of the wrong kind at the current position: `expected <expectation>, got <kind>`.
    func protoJSONMismatch(expected expectation: String, got kind: Kind) -> DecodeError {
        DecodeError(.expected("\(expectation), got \(describeNext(kind))"), offset: position)
    }

    /// Consumes `null` and returns true when it comes next (the field then keeps its default value).
    mutating func readNullAsDefault() throws(DecodeError) -> Bool {
        guard try peekKind() == .null else { return false }
        try readNull()
        return true
    }

    /// Reads an integer of `type` given as a number or a string, as its sign and magnitude within the type's range.
    mutating func readProtoJSONInteger(_ type: ProtoJSONInteger) throws(DecodeError) -> (isNegative: Bool, UInt64) {
        let kind = try peekKind()
        let start = position
        let parsed: ProtoJSONIntegerText.Parsed
        switch kind {
        case .number:
            let token = try readNumber()
            parsed = ProtoJSONIntegerText.parse(UnsafeRawBufferPointer(rebasing: bytes[token.range]))
        case .string:
            let token = try readString()
            parsed = withUTF8(token) { text in
                var inner = JSONScanner(text)
                guard let number = try? inner.readNumber(), number.range == 0..<text.count else { return .notANumber }
                return ProtoJSONIntegerText.parse(text)
            }
        default:
            throw protoJSONMismatch(expected: type.expectation, got: kind)
        }
        switch parsed {
        case .notANumber:
            throw DecodeError(.expected("\(type.expectation), got a string that is not a number"), offset: start)
        case .notIntegral:
            throw DecodeError(.expected("\(type.expectation), got a number with a fractional part"), offset: start)
        case .tooLarge:
            throw DecodeError(.numberOutOfRange, offset: start)
        case .value(let isNegative, let magnitude):
            let bound = isNegative ? type.bounds.negative : type.bounds.positive
            guard magnitude <= bound else { throw DecodeError(.numberOutOfRange, offset: start) }
            return (isNegative && magnitude != 0, magnitude)
        }
    }

    /// Reads an Int64-valued field (`int64`, `sint64`).
    mutating func readProtoJSONInt64(_ type: ProtoJSONInteger) throws(DecodeError) -> Int64 {
        let (isNegative, magnitude) = try readProtoJSONInteger(type)
        guard isNegative else { return Int64(magnitude) }
        return magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude)
    }

    /// Reads a `uint64`.
    mutating func readProtoJSONUInt64() throws(DecodeError) -> UInt64 {
        try readProtoJSONInteger(.uint64).1
    }

    /// Reads a `uint32`.
    mutating func readProtoJSONUInt32() throws(DecodeError) -> UInt32 {
        UInt32(try readProtoJSONInteger(.uint32).1)
    }

    /// Reads an `sint32`.
    mutating func readProtoJSONSInt32() throws(DecodeError) -> Int32 {
        let (isNegative, magnitude) = try readProtoJSONInteger(.sint32)
        return isNegative ? Int32(-Int64(magnitude)) : Int32(magnitude)
    }

    /// Reads a `string` field's value.
    mutating func readProtoJSONString() throws(DecodeError) -> JSONStringToken {
        let kind = try peekKind()
        guard kind == .string else { throw protoJSONMismatch(expected: "a string", got: kind) }
        return try readString()
    }

    /// Reads a `bytes` field's value: base64 in a string.
    mutating func readProtoJSONBytes() throws(DecodeError) -> [UInt8] {
        let kind = try peekKind()
        guard kind == .string else { throw protoJSONMismatch(expected: "base64 bytes (a string)", got: kind) }
        let token = try readString()
        let decoded = withUTF8(token) { text in
            Result { () throws(ProtoJSONBase64.Failure) in try ProtoJSONBase64.decode(text) }
        }
        switch decoded {
        case .success(let bytes): return bytes
        case .failure(let failure):
            // Offsets inside the text are exact unless the string has escapes; then the string's start is.
            let offset = token.hasEscapes ? token.range.lowerBound : token.range.lowerBound + failure.offset
            throw DecodeError(.expected("base64 bytes, got \(failure.text)"), offset: offset)
        }
    }
}

/// Exact conversion of a JSON number literal to an integer, when its value is one.
enum ProtoJSONIntegerText {
    /// What a literal holds.
    enum Parsed: Equatable {
        /// A whole number: its sign and magnitude.
        case value(isNegative: Bool, UInt64)
        /// A number with a nonzero fractional part.
        case notIntegral
        /// A whole number of more than 64 bits.
        case tooLarge
        /// Text that is not a JSON number (only for strings).
        case notANumber
    }

    /// The value of a literal already checked against the JSON number grammar, computed exactly: the digits and
    /// the decimal exponent are combined without floating point, so `1.5e1` is 15 and `1e-1` is not a whole number.
    static func parse(_ text: UnsafeRawBufferPointer) -> Parsed {
        var i = 0
        let isNegative = text[0] == UInt8(ascii: "-")
        if isNegative { i = 1 }
        // The common case, digits only, without building the digit list.
        var plain: UInt64 = 0
        var isPlain = true
        for index in i..<text.count {
            let byte = text[index]
            guard JSONScanner.isDigit(byte) else {
                isPlain = false
                break
            }
            let (times10, overflow1) = plain.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte &- UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return .tooLarge }
            plain = sum
        }
        if isPlain { return .value(isNegative: isNegative, plain) }
        // The significant digits (integer and fraction parts), without leading zeros, and the exponent of their last.
        var digits: [UInt8] = []
        var exponent = 0
        var seenPoint = false
        while i < text.count {
            let byte = text[i]
            if byte == UInt8(ascii: ".") {
                seenPoint = true
            } else if JSONScanner.isDigit(byte) {
                if !(digits.isEmpty && byte == UInt8(ascii: "0")) { digits.append(byte &- UInt8(ascii: "0")) }
                if seenPoint { exponent -= 1 }
            } else {
                break
            }
            i += 1
        }
        if i < text.count {  // an exponent: e, sign, digits (saturated: a huge one only matters through its sign)
            i += 1
            var isExponentNegative = false
            if text[i] == UInt8(ascii: "-") || text[i] == UInt8(ascii: "+") {
                isExponentNegative = text[i] == UInt8(ascii: "-")
                i += 1
            }
            var written = 0
            while i < text.count {
                written = Swift.min(written * 10 + Int(text[i] &- UInt8(ascii: "0")), 1_000_000)
                i += 1
            }
            exponent += isExponentNegative ? -written : written
        }
        guard !digits.isEmpty else { return .value(isNegative: isNegative, 0) }
        while digits.last == 0 {
            digits.removeLast()
            exponent += 1
        }
        guard exponent >= 0 else { return .notIntegral }
        guard digits.count + exponent <= 20 else { return .tooLarge }
        var magnitude: UInt64 = 0
        for digit in digits + [UInt8](repeating: 0, count: exponent) {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return .tooLarge }
            magnitude = sum
        }
        return .value(isNegative: isNegative, magnitude)
    }
}
