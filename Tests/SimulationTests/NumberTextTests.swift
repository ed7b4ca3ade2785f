import Testing

@testable import Simulation

/// Numbers for people: separators, fixed decimals, units.
@Suite struct NumberTextTests {
    @Test(arguments: [
        (Int64(0), "0"), (7, "7"), (999, "999"), (1_000, "1,000"), (1_234_567, "1,234,567"), (-12_345, "-12,345"),
        (Int64.min, "-9,223,372,036,854,775,808"),
    ])
    func groupsThousands(value: Int64, text: String) {
        #expect(NumberText.grouped(value) == text)
    }

    @Test(
        arguments: [
            (5.2, 2, "5.20"), (0.005, 2, "0.01"), (1234.5678, 1, "1,234.6"), (-0.004, 2, "0.00"), (-2.5, 0, "-3"),
            (42, 0, "42"), (0.1 + 0.2, 3, "0.300"), (1e30, 2, "1e+30"),
        ] as [(Double, Int, String)])
    func printsFixedDecimals(value: Double, decimals: Int, text: String) {
        #expect(NumberText.fixed(value, decimals: decimals) == text)
    }

    @Test(arguments: [
        (Int64(0), "0 B"), (812, "812 B"), (999, "999 B"), (1_000, "1.00 kB"), (12_345, "12.3 kB"),
        (4_567_890, "4.57 MB"), (999_600, "1.00 MB"), (123_456_789_012, "123 GB"),
    ])
    func showsBytesInDecimalUnits(value: Int64, text: String) {
        #expect(NumberText.bytes(value) == text)
    }

    @Test(arguments: [
        (UInt64(842_000), "0.842 ms"), (1_500_000, "1.50 ms"), (12_340_000, "12.3 ms"), (1_250_000_000, "1,250 ms"),
    ])
    func showsLatenciesInMilliseconds(ns: UInt64, text: String) {
        #expect(NumberText.milliseconds(ns) == text)
    }

    @Test func showsSimulatedSpans() {
        #expect(NumberText.span(600_000) == "00:10:00")
        #expect(NumberText.span(93_784_000) == "1d 02:03:04")
    }
}
