// The counts a transaction changes beside its readings, written by a few multi-row statements just before COMMIT
// (PostgresWriter+Batches.swift, step 4), so that counters of devices and series change in the same transaction as
// the readings they count.
//
// Rules: `series` gets its readings added and last_ts raised (greatest: a merge into the past leaves it); the
// `batches` rows whose stored count differs from the offered count written at insert are corrected; `devices` rows
// are upserted in key order (the last lock a transaction takes): first_seen_ms only when new, last_seen_ms the
// later of the stored and this transaction's time, readings and batches added, last_seq the greatest.

import Postgres
import Storage

extension PostgresWriter {
    /// The UPDATE adding the transaction's readings to its series (none when nothing was stored).
    func seriesUpdate(_ series: [SeriesKey: SeriesState]) -> [PostgresStatement] {
        let changed = series.values.filter { $0.added > 0 }.sorted { $0.id < $1.id }
        guard !changed.isEmpty else { return [] }
        return [
            PostgresStatement(
                """
                UPDATE series SET readings = series.readings + v.n, last_ts = greatest(series.last_ts, v.l)
                FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS v(id, n, l)
                WHERE series.id = v.id
                """,
                parameters: [
                    PostgresArrayText.integers(changed.map(\.id)), PostgresArrayText.integers(changed.map(\.added)),
                    PostgresArrayText.integers(changed.map { $0.lastTs }),
                ])
        ]
    }

    /// The UPDATE correcting the stored count of new batches whose readings were not all new.
    func batchesUpdate(_ batches: [PostgresBatchRequest], isNew: [Bool], stored: [Int64]) -> [PostgresStatement] {
        let corrected = batches.indices.filter { isNew[$0] && stored[$0] != Int64(Self.offered(batches[$0].batch)) }
        guard !corrected.isEmpty else { return [] }
        return [
            PostgresStatement(
                """
                UPDATE batches SET readings = v.r
                FROM unnest($1::text[], $2::bigint[], $3::integer[]) AS v(d, s, r)
                WHERE batches.device = v.d AND batches.seq = v.s
                """,
                parameters: [
                    PostgresArrayText.texts(corrected.map { batches[$0].deviceID }),
                    PostgresArrayText.integers(corrected.map { Int64(bitPattern: batches[$0].batch.seq) }),
                    PostgresArrayText.integers(corrected.map { stored[$0] }),
                ])
        ]
    }

    /// The upsert of the devices of the new batches, in key order.
    func devicesUpsert(
        _ batches: [PostgresBatchRequest], isNew: [Bool], stored: [Int64], nowMs: Int64
    ) -> [PostgresStatement] {
        var totals: [String: (readings: Int64, batches: Int64, lastSeq: Int64)] = [:]
        for index in batches.indices where isNew[index] {
            let seq = Int64(bitPattern: batches[index].batch.seq)
            var entry = totals[batches[index].deviceID] ?? (0, 0, seq)
            entry.readings += stored[index]
            entry.batches += 1
            entry.lastSeq = max(entry.lastSeq, seq)
            totals[batches[index].deviceID] = entry
        }
        guard !totals.isEmpty else { return [] }
        let names = totals.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return [
            PostgresStatement(
                """
                INSERT INTO devices (name, first_seen_ms, last_seen_ms, readings, batches, last_seq)
                SELECT d, $2::bigint, $2::bigint, r, b, s
                FROM unnest($1::text[], $3::bigint[], $4::bigint[], $5::bigint[]) WITH ORDINALITY AS v(d, r, b, s, n)
                ORDER BY n
                ON CONFLICT (name) DO UPDATE SET
                    last_seen_ms = greatest(devices.last_seen_ms, EXCLUDED.last_seen_ms),
                    readings = devices.readings + EXCLUDED.readings,
                    batches = devices.batches + EXCLUDED.batches,
                    last_seq = greatest(devices.last_seq, EXCLUDED.last_seq)
                """,
                parameters: [
                    PostgresArrayText.texts(names), .int(nowMs),
                    PostgresArrayText.integers(names.map { totals[$0]!.readings }),
                    PostgresArrayText.integers(names.map { totals[$0]!.batches }),
                    PostgresArrayText.integers(names.map { totals[$0]!.lastSeq }),
                ])
        ]
    }
}
