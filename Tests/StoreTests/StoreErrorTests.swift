import Testing

import Storage
@testable import Store

@Suite struct StoreErrorTests {
    /// SQLite result codes (primary and extended) and whether the store reports them as the storage failing.
    @Test(arguments: [
        (Int32(13), true),  // SQLITE_FULL
        (8, true),  // SQLITE_READONLY
        (10, true),  // SQLITE_IOERR
        (778, true),  // SQLITE_IOERR_WRITE
        (14, true),  // SQLITE_CANTOPEN
        (5, true),  // SQLITE_BUSY (past the busy timeout)
        (7, true),  // SQLITE_NOMEM
        (19, false),  // SQLITE_CONSTRAINT
        (2067, false),  // SQLITE_CONSTRAINT_UNIQUE
        (26, false),  // SQLITE_NOTADB
        (1, false),  // SQLITE_ERROR
    ])
    func storageFailuresAreToldApart(code: Int32, isStorageFailure: Bool) {
        let error = StoreError.fromSQLite(code: code, operation: "insert reading", message: "m")
        if case .storageFailure = error {
            #expect(isStorageFailure)
        } else {
            #expect(!isStorageFailure)
        }
        #expect(error.isUnavailable == isStorageFailure)
        #expect(error.description.contains("insert reading") && error.description.contains("\(code)"))
    }

    @Test func overloadAndCloseAreUnavailableAndSaySo() {
        #expect(StoreError.overloaded(queuedBatches: 7).isUnavailable)
        #expect(StoreError.overloaded(queuedBatches: 7).description.contains("7 batches queued"))
        #expect(StoreError.closed.isUnavailable)
        #expect(!StoreError.invalidArgument("x").isUnavailable)
        #expect(!StoreError.schemaTooNew(found: 2, supported: 1).isUnavailable)
    }
}
