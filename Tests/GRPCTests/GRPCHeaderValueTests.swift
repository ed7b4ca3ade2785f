import Testing
import GRPC

/// `grpc-message` percent-encoding and `grpc-timeout` values, per the gRPC HTTP/2 protocol document.
@Suite struct GRPCHeaderValueTests {
    @Test(arguments: [
        ("plain text", "plain text"), ("100%", "100%25"), ("tab\there", "tab%09here"), ("Grüße", "Gr%C3%BC%C3%9Fe"),
        ("", ""),
    ])
    func messageEncoding(plain: String, encoded: String) {
        #expect(GRPCMessageText.encode(plain) == encoded)
        #expect(GRPCMessageText.decode(encoded) == plain)
    }

    @Test(arguments: ["%", "%4", "%zz", "100%%", "%C3"])
    func lenientDecodingKeepsBadEscapes(text: String) {
        let decoded = GRPCMessageText.decode(text)
        #expect(!decoded.isEmpty)
        if !text.hasPrefix("%C3") { #expect(decoded == text) }
    }

    @Test(arguments: [
        ("1S", UInt64(1_000_000_000)), ("100m", 100_000_000), ("5u", 5_000), ("7n", 7), ("2M", 120_000_000_000),
        ("1H", 3_600_000_000_000), ("99999999n", 99_999_999),
    ])
    func parsesTimeouts(text: String, nanoseconds: UInt64) {
        #expect(GRPCTimeout.parse(text) == nanoseconds)
    }

    @Test(arguments: ["", "S", "1", "1s", "123456789S", "-1S", "1.5S", " 1S"])
    func refusesMalformedTimeouts(text: String) {
        #expect(GRPCTimeout.parse(text) == nil)
    }

    @Test func formatsInTheFinestUnitThatFits() {
        #expect(GRPCTimeout.format(nanoseconds: 1_000_000_000) == "1000000u")
        #expect(GRPCTimeout.format(nanoseconds: 5) == "5n")
        #expect(GRPCTimeout.format(nanoseconds: 3_600_000_000_000_000) == "3600000S")
        #expect(GRPCTimeout.format(nanoseconds: 360_000_000_000_000_000) == "6000000M")
        for nanos: UInt64 in [1, 999, 123_456_789_012, 86_400_000_000_000] {
            #expect(GRPCTimeout.parse(GRPCTimeout.format(nanoseconds: nanos))! >= nanos)
        }
    }

    /// Fuzz regression (Tests/Fuzz/regressions/grpc-deframer/timeout-format-overflow-uint64-max): rounding up as
    /// `(n + unit - 1) / unit` overflowed and trapped for n within a unit of UInt64.max, which `parse` returns for
    /// any timeout too long to count in nanoseconds ("99999999H").
    @Test(arguments: [UInt64.max, UInt64.max - 998, UInt64.max - 59_999_999_999, GRPCTimeout.parse("99999999H")!])
    func formatsTheLargestTimeoutsWithoutOverflow(nanoseconds: UInt64) {
        let formatted = GRPCTimeout.format(nanoseconds: nanoseconds)
        #expect(formatted == "5124096H")
        #expect(GRPCTimeout.parse(formatted)! >= nanoseconds)
    }

    @Test func httpStatusMapping() {
        #expect(GRPCStatus.fromHTTPStatus(503).code == .unavailable)
        #expect(GRPCStatus.fromHTTPStatus(404).code == .unimplemented)
        #expect(GRPCStatus.fromHTTPStatus(200).code == .unknown)
        #expect(GRPCStatus.Code.allCases.count == 17)
    }
}
