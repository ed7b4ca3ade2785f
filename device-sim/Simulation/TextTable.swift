// Aligned plain-text columns for the terminal report: text columns left-aligned, number columns right-aligned,
// two spaces between columns, the header underlined, optional rules between groups of rows. Widths count
// characters (Swift `Character`s), which is right for the ASCII and the few symbols (×, µ) the report uses.

/// A plain-text table; see above.
struct TextTable {
    /// How a column's cells line up.
    enum Alignment {
        /// Text: padded on the right.
        case left
        /// Numbers: padded on the left.
        case right
    }

    /// One line of the table.
    private enum Line {
        /// A row of cells.
        case cells([String])
        /// A horizontal rule.
        case rule
    }

    /// Column titles and alignments.
    let columns: [(title: String, alignment: Alignment)]
    /// The lines below the header.
    private var lines: [Line] = []

    /// A table with these columns.
    init(_ columns: [(title: String, alignment: Alignment)]) {
        self.columns = columns
    }

    /// Adds a row (one cell per column; missing cells are blank).
    mutating func add(_ cells: [String]) { lines.append(.cells(cells)) }

    /// Adds a rule across the table.
    mutating func addRule() { lines.append(.rule) }

    /// The table as lines of text joined by newlines, each prefixed with `indent`, with no trailing spaces.
    func render(indent: String = "") -> String {
        var widths = columns.map(\.title.count)
        for case .cells(let cells) in lines {
            for (i, cell) in cells.enumerated() where i < widths.count { widths[i] = max(widths[i], cell.count) }
        }
        let totalWidth = widths.reduce(0, +) + 2 * max(widths.count - 1, 0)
        func format(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, column) in columns.enumerated() {
                let cell = i < cells.count ? cells[i] : ""
                let padding = String(repeating: " ", count: widths[i] - cell.count)
                parts.append(column.alignment == .left ? cell + padding : padding + cell)
            }
            var line = indent + parts.joined(separator: "  ")
            while line.last == " " { line.removeLast() }
            return line
        }
        var out = [format(columns.map(\.title)), indent + String(repeating: "-", count: totalWidth)]
        for line in lines {
            switch line {
            case .cells(let cells): out.append(format(cells))
            case .rule: out.append(indent + String(repeating: "-", count: totalWidth))
            }
        }
        return out.joined(separator: "\n")
    }
}
