// Command-line flags for the collector and the simulator: declared once with their help text, parsed strictly.
// `--name value` and `--name=value`; booleans take no value; `--help` anywhere asks for help. Unknown flags,
// missing values and bad values are errors that name the flag, so a typo never silently runs with a default.

/// One flag a command accepts.
public struct FlagSpec: Sendable {
    /// Name without dashes (`listen` for `--listen`).
    public var name: String
    /// Placeholder shown in help (`HOST:PORT`); nil for a boolean flag.
    public var valueName: String?
    /// What the flag does, for `--help`.
    public var help: String
    /// The default, shown in help; nil when there is none.
    public var defaultValue: String?

    /// A flag; give `value` (its placeholder in help) for one that takes a value, none for a boolean.
    public init(_ name: String, value valueName: String? = nil, default defaultValue: String? = nil, help: String) {
        self.name = name
        self.valueName = valueName
        self.help = help
        self.defaultValue = defaultValue
    }

    /// True for flags that take no value.
    public var isBoolean: Bool { valueName == nil }
}

/// Why a command line was refused.
public struct FlagError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The message for the user, one line, naming the flag or argument at fault.
    public var description: String

    /// A refusal with its message.
    public init(_ description: String) { self.description = description }
}

/// A parsed command line: flag values by name, and positional arguments.
public struct ParsedFlags: Sendable {
    /// Values given (booleans map to "true").
    public var values: [String: String]
    /// Arguments that are not flags, in order.
    public var positional: [String]
    /// True when `--help` or `-h` was given.
    public var wantsHelp: Bool

    private let specs: [String: FlagSpec]

    init(values: [String: String], positional: [String], wantsHelp: Bool, specs: [String: FlagSpec]) {
        self.values = values
        self.positional = positional
        self.wantsHelp = wantsHelp
        self.specs = specs
    }

    /// The flag's value, or its declared default.
    public func string(_ name: String) -> String? { values[name] ?? specs[name]?.defaultValue }

    /// True when a boolean flag was given.
    public func bool(_ name: String) -> Bool { values[name] == "true" }

    /// The flag's value as an integer within `range`.
    public func int(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(FlagError) -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw FlagError("--\(name): expected a whole number in \(range.lowerBound)...\(range.upperBound), got \"\(text)\"")
        }
        return value
    }

    /// The flag's value as a duration in milliseconds: `500ms`, `10s`, `5m`, `2h`, `1d` (a bare number is seconds).
    public func milliseconds(_ name: String) throws(FlagError) -> Int64? {
        guard let text = string(name) else { return nil }
        guard let value = Self.parseDuration(text) else {
            throw FlagError("--\(name): expected a duration like 500ms, 10s, 5m, 2h or 1d, got \"\(text)\"")
        }
        return value
    }

    /// Parses `500ms`, `1.5s`, `10s`, `5m`, `2h`, `1d`, `2w`, `1y` (365 days) or a bare number of seconds into
    /// milliseconds.
    public static func parseDuration(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000), ("w", 604_800_000),
            ("y", 31_536_000_000),
        ]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            let number = text.dropLast(suffix.count)
            // "ms" must not be read as minutes followed by "s".
            if suffix == "s" && number.hasSuffix("m") { continue }
            guard let value = Double(number), value >= 0, value.isFinite else { return nil }
            return Int64((value * scale).rounded())
        }
        guard let seconds = Double(text), seconds >= 0, seconds.isFinite else { return nil }
        return Int64((seconds * 1000).rounded())
    }
}

/// A command's flags: parsing and help text.
public struct FlagParser: Sendable {
    /// The command as typed (`collector serve`).
    public var command: String
    /// One-paragraph summary for help.
    public var summary: String
    /// Accepted flags, in help order.
    public var specs: [FlagSpec]

    /// Memberwise; flag names must be unique (`parse` traps on a duplicate).
    public init(command: String, summary: String, specs: [FlagSpec]) {
        self.command = command
        self.summary = summary
        self.specs = specs
    }

    /// Parses arguments (without the program and subcommand names).
    public func parse(_ arguments: [String]) throws(FlagError) -> ParsedFlags {
        let byName = Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) })
        var values: [String: String] = [:]
        var positional: [String] = []
        var wantsHelp = false
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--help" || argument == "-h" {
                wantsHelp = true
                continue
            }
            guard argument.hasPrefix("--"), argument.count > 2 else {
                positional.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let spec = byName[name] else {
                let close = specs.map(\.name).filter { $0.hasPrefix(String(name.prefix(3))) }
                let hint = close.isEmpty ? "" : " (did you mean --\(close[0])?)"
                throw FlagError("unknown flag --\(name)\(hint); see \(command) --help")
            }
            if spec.isBoolean {
                guard inlineValue == nil else { throw FlagError("--\(name) takes no value") }
                values[name] = "true"
            } else if let inlineValue {
                values[name] = inlineValue
            } else {
                guard index < arguments.count else { throw FlagError("--\(name) needs a value (\(spec.valueName!))") }
                values[name] = arguments[index]
                index += 1
            }
        }
        return ParsedFlags(values: values, positional: positional, wantsHelp: wantsHelp, specs: byName)
    }

    /// The `--help` text.
    public var helpText: String {
        var lines = ["usage: \(command) [flags]", "", summary, "", "flags:"]
        let labels = specs.map { "--\($0.name)" + ($0.valueName.map { " \($0)" } ?? "") }
        let width = (labels.map(\.count).max() ?? 0) + 2
        for (spec, label) in zip(specs, labels) {
            let padded = label + String(repeating: " ", count: width - label.count)
            let defaultText = spec.defaultValue.map { " (default: \($0))" } ?? ""
            lines.append("  \(padded)\(spec.help)\(defaultText)")
        }
        lines.append("  --help" + String(repeating: " ", count: max(width - 6, 1)) + "show this help")
        return lines.joined(separator: "\n")
    }
}
