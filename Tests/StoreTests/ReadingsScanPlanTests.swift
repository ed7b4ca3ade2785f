import Testing

@testable import Store

/// xBestIndex's decisions, without SQLite: which constraints are pushed down (in argv order), when the ORDER BY
/// is consumed, and that a filtered plan always costs less than a scan.
struct ReadingsScanPlanTests {
    typealias Filters = ReadingsScanPlan.Filters

    static func constraint(
        _ column: Int32, _ op: ReadingsConstraint.Operator, usable: Bool = true,
        binary: Bool = true
    ) -> ReadingsConstraint {
        ReadingsConstraint(column: column, op: op, isUsable: usable, isBinary: binary)
    }

    @Test func pushedDownConstraintsTakeArgvInAFixedOrder() {
        // Given ts <, value =, sensor =, ts >=, device =: argv is device, sensor, ts >=, ts <.
        let plan = ReadingsScanPlan.make(
            constraints: [
                Self.constraint(2, .less), Self.constraint(3, .equal), Self.constraint(1, .equal),
                Self.constraint(2, .greaterOrEqual), Self.constraint(0, .equal),
            ],
            orderBy: [])
        #expect(plan.filters == [.device, .sensor, .tsGreaterOrEqual, .tsLess])
        #expect(plan.argvIndex == [4, 0, 2, 3, 1])
    }

    @Test func unusableNonBinaryAndSecondBoundsAreLeftToSQLite() {
        let plan = ReadingsScanPlan.make(
            constraints: [
                Self.constraint(0, .equal, usable: false), Self.constraint(1, .equal, binary: false),
                Self.constraint(2, .greater), Self.constraint(2, .greaterOrEqual), Self.constraint(2, .other),
            ],
            orderBy: [])
        #expect(plan.filters == [.tsGreater])
        #expect(plan.argvIndex == [0, 0, 1, 0, 0])
    }

    @Test func everyFilterCostsLessThanAScanAndAPinnedReadingIsUnique() {
        let scan = ReadingsScanPlan.make(constraints: [], orderBy: [])
        for op in [ReadingsConstraint.Operator.equal, .less, .lessOrEqual, .greater, .greaterOrEqual] {
            #expect(
                ReadingsScanPlan.make(constraints: [Self.constraint(2, op)], orderBy: []).estimatedCost
                    < scan.estimatedCost)
        }
        let device = ReadingsScanPlan.make(constraints: [Self.constraint(0, .equal)], orderBy: [])
        let series = ReadingsScanPlan.make(
            constraints: [Self.constraint(0, .equal), Self.constraint(1, .equal)],
            orderBy: [])
        #expect(device.estimatedCost < scan.estimatedCost && series.estimatedCost < device.estimatedCost)
        let one = ReadingsScanPlan.make(
            constraints: [Self.constraint(0, .equal), Self.constraint(1, .equal), Self.constraint(2, .equal)],
            orderBy: [])
        #expect(one.isUnique && one.estimatedRows == 1)
        #expect(!series.isUnique)
    }

    /// (pinned columns by `=`, ORDER BY as (column, descending), consumed?, descending?)
    static let orders: [([Int32], [(Int32, Bool)], Bool, Bool)] = [
        ([], [], true, false),
        ([], [(0, false)], true, false),
        ([], [(0, false), (1, false), (2, false)], true, false),
        ([], [(0, true), (1, true), (2, true)], true, true),
        ([], [(0, false), (1, true)], false, false),
        ([], [(2, false)], false, false),
        ([], [(1, false)], false, false),
        ([], [(3, false)], false, false),
        ([0], [(1, false), (2, false)], true, false),
        ([0], [(2, false)], false, false),
        ([0, 1], [(2, true)], true, true),
        ([0, 1], [(0, false), (2, true)], true, true),
        ([0, 1], [(2, false), (3, false)], false, false),
    ]

    @Test(arguments: orders.indices)
    func orderByIsConsumedWhenItFollowsDeviceSensorTs(_ index: Int) {
        let (pinned, order, isConsumed, isDescending) = Self.orders[index]
        let plan = ReadingsScanPlan.make(
            constraints: pinned.map { Self.constraint($0, .equal) },
            orderBy: order.map { ReadingsOrderTerm(column: $0.0, isDescending: $0.1) })
        #expect(plan.isOrderConsumed == isConsumed)
        #expect(plan.filters.contains(.descending) == isDescending)
    }
}
