import Foundation

/// Where a readings page ended: the (ts, sensor) key of its last row and the order it was read in.
///
/// Keyset pagination: the next page is the rows strictly after this key in the page's order, so paging through a
/// range while new readings arrive neither skips nor repeats a row that existed when paging started (new rows show
/// up only when they sort after the cursor). The `token` is an opaque, URL-safe string for clients to hand back.
public struct ReadingCursor: Hashable, Sendable {
    /// Time of the last row returned.
    package let ts: Int64
    /// Sensor of the last row returned.
    package let sensor: String
    /// The order of the page the cursor continues.
    package let order: ReadingOrder

    /// A cursor continuing after the row `(ts, sensor)` in `order`.
    package init(ts: Int64, sensor: String, order: ReadingOrder) {
        self.ts = ts
        self.sensor = sensor
        self.order = order
    }

    /// Decodes a token made by `token`; nil when it is not one.
    public init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8) else {
            return nil
        }
        let parts = text.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "c1", let ts = Int64(parts[2]), !parts[3].isEmpty else { return nil }
        switch parts[1] {
        case "a": order = .ascending
        case "d": order = .descending
        default: return nil
        }
        self.ts = ts
        sensor = String(parts[3])
    }

    /// The cursor as an opaque string (base64url without padding).
    public var token: String {
        let text = "c1 \(order == .ascending ? "a" : "d") \(ts) \(sensor)"
        return Data(text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}
