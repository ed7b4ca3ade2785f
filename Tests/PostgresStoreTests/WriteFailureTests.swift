import Postgres
import Storage
import Telemetry
import Testing

@testable import PostgresStore

/// Which failures the writer retries as a whole, and what the requests fail with when it gives up.
@Suite struct WriteFailureTests {
    static func failure(_ sqlState: String?, isConnectionBad: Bool = false) -> WriteFailure {
        .postgres(
            PostgresError(call: "PQexecParams", sqlState: sqlState, message: "m", isConnectionBad: isConnectionBad),
            operation: "commit batches")
    }

    @Test(arguments: [
        ("40P01", true, true),  // deadlock
        ("40001", true, true),  // serialization failure
        ("23505", true, false),  // unique violation from a race (a bug if it persists)
        ("55P03", true, true),  // lock timeout
        ("57014", false, true),  // statement timeout
        ("42601", false, false),  // syntax error: a bug, never retried
    ])
    func retriedAndUnavailable(sqlState: String, isRetried: Bool, isUnavailable: Bool) {
        let failure = Self.failure(sqlState)
        #expect(failure.isRetryable == isRetried)
        #expect(failure.storeError.isUnavailable == isUnavailable)
        #expect(!failure.isConnectionLost)
    }

    @Test func aLostConnectionIsNotRetriedHereButReconnected() {
        let failure = Self.failure(nil, isConnectionBad: true)
        #expect(!failure.isRetryable)
        #expect(failure.isConnectionLost)
        guard case .storageFailure(let code, let operation, _) = failure.storeError else {
            Issue.record("expected a storage failure, got \(failure.storeError)")
            return
        }
        #expect(code == StoreError.postgresCode && operation == "commit batches")
    }

    @Test func theNaNRefusalNamesTheSensorAndTheTimestamp() {
        let batch = ReadingBatch(
            seq: 1, sensors: [SensorReadings(sensor: "t", exponent: nil, timestamps: [5, 6], values: [1, .nan])])
        #expect(
            PostgresWriter.invalidReadings(batch)
                == .invalidArgument("sensor t: the value at ts 6 is NaN, which cannot be stored"))
    }

    @Test(arguments: [(Int64(25_000), Int64(20_000)), (-1, -10_000), (-10_000, -10_000), (0, 0), (9_999, 0)])
    func historyBucketsAreFlooredTowardMinusInfinity(atMs: Int64, bucketMs: Int64) {
        #expect(PostgresWriter.floorToMultiple(atMs, of: 10_000) == bucketMs)
    }
}
