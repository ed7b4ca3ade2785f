// The `fleetwire_readings` SQLite module: the table readings(device TEXT, sensor TEXT, ts INTEGER, value REAL) over
// the compressed `chunks`, so that anyone can read the data with plain SQL (`collector sql`, `SQLConsole`).
// Read-only: there is no xUpdate, so SQLite refuses INSERT, UPDATE and DELETE on it.
//
// How Swift state hangs off SQLite's structs: SQLite owns pointers to `sqlite3_vtab` and `sqlite3_vtab_cursor` and
// passes them back to every callback. We allocate the C structs `fw_readings_vtab` / `fw_readings_cursor`
// (CSQLite/shim.h) whose first member is the base struct, so a base pointer is also a pointer to ours; their
// `owner` holds a retained `ReadingsTable` / `ReadingsCursor`, released in xDisconnect / xClose. The module struct
// itself lives in a retained `ReadingsModule`, SQLite's client data for the module, released by the module's
// destructor when the connection closes. Every callback is a non-capturing closure that recovers its object with
// `Unmanaged.fromOpaque(...).takeUnretainedValue()`, calls a Swift method, and maps a thrown error to a result code
// and the vtab's `zErrMsg` (which SQLite turns into the statement's error message).
//
// What a scan reads: ReadingsScanPlan.swift (xBestIndex: pushdown, order, costs) and ReadingsCursor.swift (xFilter:
// which chunks are decoded).

internal import CSQLite
import Storage

/// The module registered on one connection; SQLite's client data for it.
///
/// Not `Sendable`: it belongs to one connection, which one thread uses at a time.
final class ReadingsModule {
    /// The name in `CREATE VIRTUAL TABLE ... USING fleetwire_readings`.
    static let name = "fleetwire_readings"
    /// The schema SQLite is given for every table of the module.
    static let schema = "CREATE TABLE x(device TEXT, sensor TEXT, ts INTEGER, value REAL)"

    /// Chunks decoded by every scan on this connection so far: how much work pushdown saved (tests check it).
    var decodedChunks = 0

    /// The callbacks; allocated for the module's life because SQLite keeps the pointer.
    fileprivate let callbacks: UnsafeMutablePointer<sqlite3_module>

    private init() {
        callbacks = .allocate(capacity: 1)
        callbacks.initialize(to: Self.makeCallbacks())
    }

    deinit {
        callbacks.deinitialize(count: 1)
        callbacks.deallocate()
    }

    /// Registers the module on `database`; the returned object reads its counters.
    static func register(on database: Database) throws(StoreError) -> ReadingsModule {
        let module = ReadingsModule()
        let clientData = Unmanaged.passRetained(module).toOpaque()
        // On failure too, SQLite calls the destructor, which releases the module.
        let code = sqlite3_create_module_v2(database.handle, name, module.callbacks, clientData) { clientData in
            guard let clientData else { return }
            Unmanaged<ReadingsModule>.fromOpaque(clientData).release()
        }
        guard code == SQLITE_OK else {
            throw StoreError.fromSQLite(
                code: code, operation: "register \(name)", message: database.lastErrorMessage)
        }
        return module
    }

    /// The module's callbacks: each forwards to a Swift method (see the file header).
    private static func makeCallbacks() -> sqlite3_module {
        var module = sqlite3_module()
        module.iVersion = 1
        // xCreate == xConnect: nothing to create in the database (and the table is also eponymous).
        module.xCreate = { db, clientData, _, _, table, _ in ReadingsTable.connect(db, clientData, table) }
        module.xConnect = { db, clientData, _, _, table, _ in ReadingsTable.connect(db, clientData, table) }
        module.xBestIndex = { _, info in
            guard let info else { return SQLITE_ERROR }
            ReadingsTable.bestIndex(info)
            return SQLITE_OK
        }
        module.xDisconnect = { table in ReadingsTable.disconnect(table) }
        module.xDestroy = { table in ReadingsTable.disconnect(table) }
        module.xOpen = { table, cursor in ReadingsTable.open(table, cursor) }
        module.xClose = { cursor in ReadingsTable.close(cursor) }
        module.xFilter = { cursor, idxNum, _, argc, argv in
            guard let cursor else { return SQLITE_ERROR }
            let arguments = (0..<Int(argc)).map { argv?[$0] }
            return ReadingsTable.run(cursor) { scan throws(ReadingsScanError) in
                try scan.filter(ReadingsScanPlan.Filters(rawValue: idxNum), arguments: arguments)
            }
        }
        module.xNext = { cursor in
            guard let cursor else { return SQLITE_ERROR }
            return ReadingsTable.run(cursor) { scan throws(ReadingsScanError) in try scan.next() }
        }
        module.xEof = { cursor in
            guard let cursor else { return 1 }
            return ReadingsTable.cursor(cursor).isAtEnd ? 1 : 0
        }
        module.xColumn = { cursor, context, column in
            guard let cursor else { return SQLITE_ERROR }
            ReadingsTable.cursor(cursor).result(context, column: column)
            return SQLITE_OK
        }
        module.xRowid = { cursor, rowID in
            guard let cursor, let rowID else { return SQLITE_ERROR }
            rowID.pointee = ReadingsTable.cursor(cursor).rowID
            return SQLITE_OK
        }
        return module
    }
}

/// One `readings` table on one connection: what its cursors need.
final class ReadingsTable {
    /// The connection the table lives on; the cursors query `main.chunks` on it.
    let database: OpaquePointer
    let module: ReadingsModule

    private init(database: OpaquePointer, module: ReadingsModule) {
        self.database = database
        self.module = module
    }

    /// xConnect: declares the schema and allocates the vtab with its owner.
    fileprivate static func connect(
        _ db: OpaquePointer?, _ clientData: UnsafeMutableRawPointer?,
        _ result: UnsafeMutablePointer<UnsafeMutablePointer<sqlite3_vtab>?>?
    ) -> Int32 {
        guard let db, let clientData, let result else { return SQLITE_ERROR }
        let code = sqlite3_declare_vtab(db, ReadingsModule.schema)
        guard code == SQLITE_OK else { return code }
        let module = Unmanaged<ReadingsModule>.fromOpaque(clientData).takeUnretainedValue()
        let table = UnsafeMutablePointer<fw_readings_vtab>.allocate(capacity: 1)
        table.initialize(to: fw_readings_vtab())
        table.pointee.owner = Unmanaged.passRetained(ReadingsTable(database: db, module: module)).toOpaque()
        // `base` is the first member: the struct's address is the base's.
        result.pointee = UnsafeMutableRawPointer(table).assumingMemoryBound(to: sqlite3_vtab.self)
        return SQLITE_OK
    }

    /// xDisconnect / xDestroy: releases the owner and frees the vtab.
    fileprivate static func disconnect(_ base: UnsafeMutablePointer<sqlite3_vtab>?) -> Int32 {
        guard let base else { return SQLITE_OK }
        let table = UnsafeMutableRawPointer(base).assumingMemoryBound(to: fw_readings_vtab.self)
        if let owner = table.pointee.owner { Unmanaged<ReadingsTable>.fromOpaque(owner).release() }
        sqlite3_free(table.pointee.base.zErrMsg)
        table.deinitialize(count: 1)
        table.deallocate()
        return SQLITE_OK
    }

    /// xOpen: allocates a cursor with its owner.
    fileprivate static func open(
        _ base: UnsafeMutablePointer<sqlite3_vtab>?,
        _ result: UnsafeMutablePointer<UnsafeMutablePointer<sqlite3_vtab_cursor>?>?
    ) -> Int32 {
        guard let base, let result else { return SQLITE_ERROR }
        let owner = UnsafeMutableRawPointer(base).assumingMemoryBound(to: fw_readings_vtab.self).pointee.owner!
        let table = Unmanaged<ReadingsTable>.fromOpaque(owner).takeUnretainedValue()
        let cursor = UnsafeMutablePointer<fw_readings_cursor>.allocate(capacity: 1)
        cursor.initialize(to: fw_readings_cursor())
        cursor.pointee.owner = Unmanaged.passRetained(ReadingsCursor(table: table)).toOpaque()
        result.pointee = UnsafeMutableRawPointer(cursor).assumingMemoryBound(to: sqlite3_vtab_cursor.self)
        return SQLITE_OK
    }

    /// xClose: releases the owner (finalizing its statements) and frees the cursor.
    fileprivate static func close(_ base: UnsafeMutablePointer<sqlite3_vtab_cursor>?) -> Int32 {
        guard let base else { return SQLITE_OK }
        let cursor = UnsafeMutableRawPointer(base).assumingMemoryBound(to: fw_readings_cursor.self)
        if let owner = cursor.pointee.owner { Unmanaged<ReadingsCursor>.fromOpaque(owner).release() }
        cursor.deinitialize(count: 1)
        cursor.deallocate()
        return SQLITE_OK
    }

    /// The Swift cursor behind a cursor pointer.
    fileprivate static func cursor(_ base: UnsafeMutablePointer<sqlite3_vtab_cursor>) -> ReadingsCursor {
        let owner = UnsafeMutableRawPointer(base).assumingMemoryBound(to: fw_readings_cursor.self).pointee.owner!
        return Unmanaged<ReadingsCursor>.fromOpaque(owner).takeUnretainedValue()
    }

    /// Runs a cursor step; a thrown error becomes the result code and the vtab's error message.
    fileprivate static func run(
        _ base: UnsafeMutablePointer<sqlite3_vtab_cursor>,
        _ body: (ReadingsCursor) throws(ReadingsScanError) -> Void
    ) -> Int32 {
        do {
            try body(cursor(base))
            return SQLITE_OK
        } catch {
            if let vtab = base.pointee.pVtab {
                sqlite3_free(vtab.pointee.zErrMsg)
                vtab.pointee.zErrMsg = fw_sqlite3_strdup(error.message)
            }
            return error.code
        }
    }

    /// xBestIndex: reads the constraints and ORDER BY, plans (ReadingsScanPlan) and writes the plan back.
    fileprivate static func bestIndex(_ info: UnsafeMutablePointer<sqlite3_index_info>) {
        let count = Int(info.pointee.nConstraint)
        let constraints = (0..<count).map { index in
            let constraint = info.pointee.aConstraint[index]
            let collation = sqlite3_vtab_collation(info, Int32(index)).map { String(cString: $0) } ?? "BINARY"
            return ReadingsConstraint(
                column: constraint.iColumn, op: operatorOf(constraint.op), isUsable: constraint.usable != 0,
                isBinary: collation.uppercased() == "BINARY")
        }
        let orderBy = (0..<Int(info.pointee.nOrderBy)).map { index in
            let term = info.pointee.aOrderBy[index]
            return ReadingsOrderTerm(column: term.iColumn, isDescending: term.desc != 0)
        }
        let plan = ReadingsScanPlan.make(constraints: constraints, orderBy: orderBy)
        for index in 0..<count {
            info.pointee.aConstraintUsage[index].argvIndex = plan.argvIndex[index]
            // SQLite re-checks every constraint: the cursor's bounds may be looser (see ReadingsScanPlan).
            info.pointee.aConstraintUsage[index].omit = 0
        }
        info.pointee.idxNum = plan.filters.rawValue
        info.pointee.orderByConsumed = plan.isOrderConsumed ? 1 : 0
        info.pointee.estimatedCost = plan.estimatedCost
        info.pointee.estimatedRows = plan.estimatedRows
        if plan.isUnique { info.pointee.idxFlags |= SQLITE_INDEX_SCAN_UNIQUE }
    }

    private static func operatorOf(_ op: UInt8) -> ReadingsConstraint.Operator {
        switch Int32(op) {
        case SQLITE_INDEX_CONSTRAINT_EQ: .equal
        case SQLITE_INDEX_CONSTRAINT_LT: .less
        case SQLITE_INDEX_CONSTRAINT_LE: .lessOrEqual
        case SQLITE_INDEX_CONSTRAINT_GT: .greater
        case SQLITE_INDEX_CONSTRAINT_GE: .greaterOrEqual
        default: .other
        }
    }
}

extension ReadingsCursor {
    /// xColumn: the current row's `column` as the function result.
    fileprivate func result(_ context: OpaquePointer?, column: Int32) {
        switch column {
        case ReadingsScanPlan.Column.device: Self.resultText(context, device)
        case ReadingsScanPlan.Column.sensor: Self.resultText(context, sensor)
        case ReadingsScanPlan.Column.ts: sqlite3_result_int64(context, ts)
        case ReadingsScanPlan.Column.value: sqlite3_result_double(context, value)
        default: sqlite3_result_null(context)
        }
    }

    private static func resultText(_ context: OpaquePointer?, _ text: String) {
        text.withCString { fw_sqlite3_result_text_transient(context, $0, Int32(text.utf8.count)) }
    }
}
