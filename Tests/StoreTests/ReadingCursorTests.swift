import Testing

import Storage
@testable import Store

@Suite struct ReadingCursorTests {
    @Test(arguments: [
        ReadingCursor(ts: 0, sensor: "a", order: .ascending),
        ReadingCursor(ts: -1_234_567, sensor: "temp.inner-2_x", order: .descending),
        ReadingCursor(ts: .max, sensor: "z", order: .ascending),
        ReadingCursor(ts: .min, sensor: "0", order: .descending),
    ])
    func tokenRoundTrips(cursor: ReadingCursor) {
        let token = cursor.token
        #expect(ReadingCursor(token: token) == cursor)
        #expect(token.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }, "token is not URL-safe")
    }

    @Test(arguments: ["", "!!!", "YWJj", "YzEgeCAxIGE", "YzEgYSB4IGE", "YzEgYSAx"])
    func malformedTokensAreRejected(token: String) {
        // "abc", "c1 x 1 a" (bad order), "c1 a x a" (bad ts), "c1 a 1" (no sensor)
        #expect(ReadingCursor(token: token) == nil)
    }
}
