import Testing
import Accounting

/// A connection closed before its protocol was known is still counted, and its bytes attributed.
struct UndecidedConnectionTests {
    @Test func anUndecidedConnectionIsH2COverheadOnlyWhenItSentBytes() {
        #expect(UndecidedConnection.row(bytesRead: 0).0 == .overhead(.restJSON))
        let (key, counters) = UndecidedConnection.row(bytesRead: 10)
        #expect(key == .overhead(.h2c) && counters.bytesIn.framing == 10 && counters.connections == 1)
    }
}
