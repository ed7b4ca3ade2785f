import Testing
import Flags

@Suite struct FlagsTests {
    static let parser = FlagParser(command: "collector serve", summary: "Runs the collector.", specs: [
        FlagSpec("listen", value: "HOST:PORT", default: "127.0.0.1:8080", help: "address to listen on"),
        FlagSpec("loops", value: "N", help: "event loop threads"),
        FlagSpec("verbose", help: "log every request"),
    ])

    @Test func parsesBothSpellingsAndDefaults() throws {
        let flags = try Self.parser.parse(["--loops", "3", "--listen=0.0.0.0:9", "--verbose", "extra"])
        #expect(flags.string("listen") == "0.0.0.0:9")
        #expect(try flags.int("loops", in: 1...64) == 3)
        #expect(flags.bool("verbose"))
        #expect(flags.positional == ["extra"])
        #expect(try Self.parser.parse([]).string("listen") == "127.0.0.1:8080")
        #expect(try Self.parser.parse(["-h"]).wantsHelp)
    }

    @Test(arguments: [
        (["--lisen", "x"], "unknown flag --lisen (did you mean --listen?); see collector serve --help"),
        (["--loops"], "--loops needs a value (N)"),
        (["--verbose=yes"], "--verbose takes no value"),
    ])
    func refusals(arguments: [String], message: String) {
        #expect(throws: FlagError(message)) { try Self.parser.parse(arguments) }
    }

    @Test func badNumbersNameTheFlag() throws {
        let flags = try Self.parser.parse(["--loops", "0"])
        #expect(throws: FlagError("--loops: expected a whole number in 1...64, got \"0\"")) {
            try flags.int("loops", in: 1...64)
        }
    }

    @Test(arguments: [
        ("500ms", Int64(500)), ("10s", 10_000), ("1.5s", 1500), ("5m", 300_000), ("2h", 7_200_000), ("1d", 86_400_000),
        ("3", 3000),
    ])
    func durations(text: String, milliseconds: Int64) {
        #expect(ParsedFlags.parseDuration(text) == milliseconds)
    }

    @Test(arguments: ["", "ms", "-1s", "ten", "5x"])
    func badDurations(text: String) {
        #expect(ParsedFlags.parseDuration(text) == nil)
    }

    @Test func helpListsEveryFlagWithDefaults() {
        let help = Self.parser.helpText
        #expect(help.contains("--listen HOST:PORT"))
        #expect(help.contains("(default: 127.0.0.1:8080)"))
        #expect(help.contains("--verbose"))
        #expect(help.contains("--help"))
    }
}
