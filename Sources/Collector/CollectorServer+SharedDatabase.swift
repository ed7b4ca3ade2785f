// Several collectors on one database (the PostgreSQL backend): each adds only to its own counter rows, and reads
// the others' back so that `/v1/bandwidth`, `/metrics` and the dashboard of any replica report the whole fleet.
//
// Rule: the other collectors' rows are read on a store read thread after every counter flush (every 2 s), never on
// a loop; a failed read keeps the previous figures (the next flush tries again). This collector's own figures are
// always its live ledger, so a replica's share is exact and the others' are at most one flush behind.

import Accounting
import CollectorService
import Storage

extension CollectorServer {
    /// The persisted counters of every collector of a shared database except this one, by collector; empty for a
    /// database one collector owns.
    static func otherCollectorsCounters(
        _ store: any TelemetryStorage
    ) throws(StoreError) -> [String: [BandwidthKey: BandwidthCounters]] {
        guard let me = store.sharedCollectorName else { return [:] }
        var others: [String: [BandwidthKey: BandwidthCounters]] = [:]
        for collector in try store.counterCollectors() where collector != me {
            var rows: [BandwidthKey: BandwidthCounters] = [:]
            for row in try store.counters(collector: collector) {
                rows[BandwidthKey(row.totals.protocolName, row.totals.device)] = BandwidthCounters(row.totals)
            }
            others[collector] = rows
        }
        return others
    }

    /// Reads the other collectors' counters back into the ledger, on a read thread (see the file header).
    func refreshOtherCollectors() {
        let store = context.store
        guard store.sharedCollectorName != nil else { return }
        let ledger = context.ledger
        try? store.performRead {
            if let others = try? Self.otherCollectorsCounters(store) { ledger.setOthers(others) }
        }
    }
}
