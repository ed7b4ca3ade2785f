/// The octets and octet classes of RFC 9110/9112 grammar that the parsers and serializers test against.
///
/// Parsing is done on octets, never on decoded strings: a `String` is only made for a finished, validated piece.
enum ASCII {
    /// HTAB
    static let tab: UInt8 = 0x09
    /// LF, the end of a line
    static let lf: UInt8 = 0x0A
    /// CR, which must be followed by LF
    static let cr: UInt8 = 0x0D
    /// SP
    static let space: UInt8 = 0x20
    /// DQUOTE, which opens and closes a quoted-string
    static let quote: UInt8 = 0x22
    /// `%`, which starts a percent-escape
    static let percent: UInt8 = 0x25
    /// `,`, which separates list elements
    static let comma: UInt8 = 0x2C
    /// `.`, between the digits of a version
    static let dot: UInt8 = 0x2E
    /// `/`
    static let slash: UInt8 = 0x2F
    /// `0`, the base of decimal digits
    static let zero: UInt8 = 0x30
    /// `:`, which ends a field name
    static let colon: UInt8 = 0x3A
    /// `;`, which starts a chunk extension
    static let semicolon: UInt8 = 0x3B
    /// `=`, between a chunk extension's name and value
    static let equals: UInt8 = 0x3D
    /// `?`, which starts a query
    static let question: UInt8 = 0x3F
    /// `\`, which starts a quoted-pair
    static let backslash: UInt8 = 0x5C
    /// CR LF, the line ending.
    static let crlf: [UInt8] = [cr, lf]
}

extension UInt8 {
    /// `tchar`: the characters of a token (method, field name, transfer coding, chunk extension name).
    var isTokenChar: Bool {
        switch self {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true  // DIGIT, ALPHA
        case 0x21, 0x23, 0x24, 0x25, 0x26, 0x27, 0x2A, 0x2B, 0x2D, 0x2E, 0x5E, 0x5F, 0x60, 0x7C, 0x7E: true
        default: false
        }
    }

    /// A byte allowed inside a field value or reason phrase: HTAB, SP, VCHAR or obs-text.
    var isFieldValueChar: Bool { self == ASCII.tab || (self >= 0x20 && self != 0x7F) }

    /// Optional whitespace: SP or HTAB.
    var isWhitespace: Bool { self == ASCII.space || self == ASCII.tab }

    /// A visible ASCII character (VCHAR), the only bytes a request-target may hold.
    var isVisibleASCII: Bool { self >= 0x21 && self <= 0x7E }

    /// A decimal digit.
    var isDigit: Bool { self >= 0x30 && self <= 0x39 }

    /// The value of a hexadecimal digit, or nil.
    var hexValue: Int? {
        switch self {
        case 0x30...0x39: Int(self &- 0x30)
        case 0x41...0x46: Int(self &- 0x41 &+ 10)
        case 0x61...0x66: Int(self &- 0x61 &+ 10)
        default: nil
        }
    }

    /// The byte with ASCII upper-case letters mapped to lower case.
    var lowercasedASCII: UInt8 { (self >= 0x41 && self <= 0x5A) ? self | 0x20 : self }
}
