import Testing

import Storage
@testable import Store

@Suite struct StagedCacheTests {
    @Test func entriesBecomeCommittedOnlyWhenTheirTransactionCommits() {
        var cache = StagedCache<String, Int>()
        cache.set(1, for: "a")
        #expect(cache.value(for: "a") == 1)
        cache.releaseBatch()
        cache.set(2, for: "b")
        cache.rollBackBatch()
        #expect(cache.value(for: "b") == nil, "a rolled-back batch's entry survived")
        #expect(cache.value(for: "a") == 1)
        cache.rollBackTransaction()
        #expect(cache.value(for: "a") == nil, "a rolled-back transaction's entry survived")
        #expect(cache.committedCount == 0)

        cache.set(3, for: "c")
        cache.releaseBatch()
        cache.commitTransaction()
        #expect(cache.committedCount == 1)
        cache.set(4, for: "c")
        #expect(cache.value(for: "c") == 4, "the batch layer must shadow the committed value")
        cache.rollBackBatch()
        cache.rollBackTransaction()
        #expect(cache.value(for: "c") == 3)
    }
}
