// Failures counted by kind in fixed fields: 56 bytes per device, no dictionary, no heap.

/// How many failures of each kind a device (or a protocol, or the fleet) saw.
public struct ErrorCounts: Equatable, Sendable {
    private var refused: Int64 = 0
    private var reset: Int64 = 0
    private var closed: Int64 = 0
    private var timeout: Int64 = 0
    private var unavailable: Int64 = 0
    private var rejected: Int64 = 0
    private var malformed: Int64 = 0

    /// No failures.
    public init() {}

    /// The count of one kind.
    public subscript(kind: ErrorKind) -> Int64 {
        get {
            switch kind {
            case .refused: refused
            case .reset: reset
            case .closed: closed
            case .timeout: timeout
            case .unavailable: unavailable
            case .rejected: rejected
            case .malformed: malformed
            }
        }
        set {
            switch kind {
            case .refused: refused = newValue
            case .reset: reset = newValue
            case .closed: closed = newValue
            case .timeout: timeout = newValue
            case .unavailable: unavailable = newValue
            case .rejected: rejected = newValue
            case .malformed: malformed = newValue
            }
        }
    }

    /// All failures.
    public var total: Int64 { refused + reset + closed + timeout + unavailable + rejected + malformed }

    /// The non-zero counts in `ErrorKind` order, for reports.
    public var nonZero: [(kind: ErrorKind, count: Int64)] {
        ErrorKind.allCases.compactMap { self[$0] > 0 ? ($0, self[$0]) : nil }
    }

    /// Adds another set of counts.
    public static func += (lhs: inout ErrorCounts, rhs: ErrorCounts) {
        for kind in ErrorKind.allCases { lhs[kind] += rhs[kind] }
    }
}
