// The query planner of the `readings` virtual table (ReadingsVirtualTable.swift), kept pure: xBestIndex turns
// SQLite's `sqlite3_index_info` into `ReadingsConstraint`s and `ReadingsOrderTerm`s, asks `ReadingsScanPlan.make`,
// and writes the answer back. Rules:
//   * Pushed down: `device =`, `sensor =` (binary collation only), and on `ts`: `=`, `<`, `<=`, `>`, `>=`, at most
//     one lower and one upper bound (further ones are left to SQLite). SQLite still re-checks every constraint
//     (`omit` stays 0), so the cursor only has to return a superset: a bound whose value is not a number (text, a
//     blob) scans unbounded, and a real bound is rounded outwards.
//   * Rows come out ordered by (device, sensor, ts), or by (device DESC, sensor DESC, ts DESC). An ORDER BY is
//     consumed when its terms follow that sequence, all in one direction, where a column pinned by a pushed-down
//     `=` may be skipped or appear anywhere (it is constant): `WHERE device = ? AND sensor = ? ORDER BY ts DESC` is
//     consumed.
//   * Costs: a full scan is estimated at a million rows; `device =` keeps 1 %, `sensor =` 10 %, a ts range 5 %
//     (one bound 25 %), `ts =` one row per series. SQLite compares these across plans, so a pushed-down plan
//     always wins over scanning everything.

/// One WHERE constraint on the virtual table as xBestIndex sees it.
struct ReadingsConstraint: Equatable {
    /// The comparison, reduced to what the planner can push down.
    enum Operator: Equatable {
        case equal, less, lessOrEqual, greater, greaterOrEqual
        /// Anything else (LIKE, IS, MATCH, !=, ...): left to SQLite.
        case other
    }

    /// The column: 0 device, 1 sensor, 2 ts, 3 value (-1: rowid).
    var column: Int32
    var op: Operator
    /// False when SQLite cannot supply the right-hand side in this plan (a join order it is trying).
    var isUsable: Bool
    /// False when the comparison uses a collation other than BINARY (`device = 'X' COLLATE NOCASE`).
    var isBinary: Bool = true
}

/// One ORDER BY term.
struct ReadingsOrderTerm: Equatable {
    var column: Int32
    var isDescending: Bool
}

/// The plan chosen for a set of constraints: which ones the cursor takes (in argv order) and how it scans.
struct ReadingsScanPlan: Equatable {
    /// The column numbers of the virtual table's schema (`ReadingsVirtualTable.schema`).
    enum Column {
        static let device: Int32 = 0
        static let sensor: Int32 = 1
        static let ts: Int32 = 2
        static let value: Int32 = 3
    }

    /// The filters the cursor applies, in the order their values arrive in xFilter's argv; `rawValue` is idxNum.
    struct Filters: OptionSet, Hashable {
        let rawValue: Int32
        static let device = Filters(rawValue: 1 << 0)
        static let sensor = Filters(rawValue: 1 << 1)
        static let tsEqual = Filters(rawValue: 1 << 2)
        static let tsGreater = Filters(rawValue: 1 << 3)
        static let tsGreaterOrEqual = Filters(rawValue: 1 << 4)
        static let tsLess = Filters(rawValue: 1 << 5)
        static let tsLessOrEqual = Filters(rawValue: 1 << 6)
        /// Not a filter: rows come out in descending (device, sensor, ts) order.
        static let descending = Filters(rawValue: 1 << 7)

        /// The filters that take one argv value each, in argv order.
        static let argumentOrder: [Filters] = [
            .device, .sensor, .tsEqual, .tsGreater, .tsGreaterOrEqual, .tsLess, .tsLessOrEqual,
        ]
    }

    /// What the cursor does (xFilter's idxNum).
    var filters: Filters = []
    /// For each constraint given to `make`, its 1-based argv position, or 0 when the cursor does not use it.
    var argvIndex: [Int32]
    /// True when the rows come out in the ORDER BY's order (SQLite need not sort).
    var isOrderConsumed = false
    var estimatedRows: Int64
    var estimatedCost: Double
    /// True when at most one row can match (device, sensor and ts all pinned).
    var isUnique = false

    /// The plan for `constraints` and `orderBy`; see the rules at the top of the file.
    static func make(constraints: [ReadingsConstraint], orderBy: [ReadingsOrderTerm]) -> ReadingsScanPlan {
        var chosen: [Filters: Int] = [:]
        for (index, constraint) in constraints.enumerated() where constraint.isUsable {
            guard let filter = filter(for: constraint), chosen[filter] == nil else { continue }
            // One lower and one upper bound; `ts =` makes bounds redundant but harmless.
            if filter == .tsGreater && chosen[.tsGreaterOrEqual] != nil { continue }
            if filter == .tsGreaterOrEqual && chosen[.tsGreater] != nil { continue }
            if filter == .tsLess && chosen[.tsLessOrEqual] != nil { continue }
            if filter == .tsLessOrEqual && chosen[.tsLess] != nil { continue }
            chosen[filter] = index
        }
        var plan = ReadingsScanPlan(
            argvIndex: Array(repeating: 0, count: constraints.count), estimatedRows: 0,
            estimatedCost: 0)
        var argument: Int32 = 0
        for filter in Filters.argumentOrder {
            guard let index = chosen[filter] else { continue }
            argument += 1
            plan.argvIndex[index] = argument
            plan.filters.insert(filter)
        }
        plan.estimate()
        if let isDescending = consumedOrder(orderBy, pinned: plan.pinnedColumns) {
            plan.isOrderConsumed = true
            if isDescending { plan.filters.insert(.descending) }
        }
        return plan
    }

    /// The filter a usable constraint maps to, or nil when it is not pushed down.
    private static func filter(for constraint: ReadingsConstraint) -> Filters? {
        switch (constraint.column, constraint.op) {
        case (Column.device, .equal): constraint.isBinary ? .device : nil
        case (Column.sensor, .equal): constraint.isBinary ? .sensor : nil
        case (Column.ts, .equal): .tsEqual
        case (Column.ts, .greater): .tsGreater
        case (Column.ts, .greaterOrEqual): .tsGreaterOrEqual
        case (Column.ts, .less): .tsLess
        case (Column.ts, .lessOrEqual): .tsLessOrEqual
        default: nil
        }
    }

    /// The columns every returned row has the same value in.
    private var pinnedColumns: Set<Int32> {
        var pinned: Set<Int32> = []
        if filters.contains(.device) { pinned.insert(Column.device) }
        if filters.contains(.sensor) { pinned.insert(Column.sensor) }
        if filters.contains(.tsEqual) { pinned.insert(Column.ts) }
        return pinned
    }

    /// Fills in the row and cost estimates from the filters.
    private mutating func estimate() {
        var rows = 1_000_000.0
        if filters.contains(.device) { rows *= 0.01 }
        if filters.contains(.sensor) { rows *= 0.1 }
        let hasLower = !filters.isDisjoint(with: [.tsGreater, .tsGreaterOrEqual])
        let hasUpper = !filters.isDisjoint(with: [.tsLess, .tsLessOrEqual])
        if filters.contains(.tsEqual) {
            // One row per series at most: the chunk holding ts is found by one seek.
            rows = filters.isSuperset(of: [.device, .sensor]) ? 1 : max(1, rows / 1_000)
        } else if hasLower && hasUpper {
            rows *= 0.05
        } else if hasLower || hasUpper {
            rows *= 0.25
        }
        estimatedRows = Int64(max(1, rows))
        estimatedCost = max(1, rows)
        isUnique = filters.isSuperset(of: [.device, .sensor, .tsEqual])
    }

    /// Whether the rows' order satisfies `orderBy`: nil when it does not, else whether it is descending.
    private static func consumedOrder(_ orderBy: [ReadingsOrderTerm], pinned: Set<Int32>) -> Bool? {
        let sequence = [Column.device, Column.sensor, Column.ts]
        var position = 0
        var direction: Bool? = nil
        for term in orderBy {
            guard sequence.contains(term.column) else { return nil }
            while position < sequence.count && sequence[position] != term.column && pinned.contains(sequence[position])
            {
                position += 1
            }
            if position < sequence.count && sequence[position] == term.column {
                position += 1
            } else if !pinned.contains(term.column) {
                return nil
            }
            // A pinned column is constant: its direction does not matter.
            if pinned.contains(term.column) { continue }
            if let direction, direction != term.isDescending { return nil }
            direction = term.isDescending
        }
        return direction ?? false
    }
}
