import Accounting
import Storage
import Telemetry

extension BandwidthCounters {
    /// Counters as the store persists them (every field is non-negative by construction).
    package func delta(for key: BandwidthKey) -> CounterDelta {
        func u(_ value: Int64) -> UInt64 { UInt64(max(value, 0)) }
        return CounterDelta(
            protocolName: key.protocolName, device: key.device,
            bytesIn: u(bytesIn.total), bytesOut: u(bytesOut.total),
            headerBytesIn: u(bytesIn.header), headerBytesOut: u(bytesOut.header),
            framingBytesIn: u(bytesIn.framing), framingBytesOut: u(bytesOut.framing),
            payloadBytesIn: u(bytesIn.payload), payloadBytesOut: u(bytesOut.payload),
            readings: u(readings), batches: u(batches), duplicateBatches: u(duplicateBatches), calls: u(calls),
            connections: u(connections), errors: u(errors))
    }

    /// Counters from a persisted row.
    package init(_ row: CounterDelta) {
        self.init()
        bytesIn = Traffic(header: Int64(row.headerBytesIn), framing: Int64(row.framingBytesIn),
                          payload: Int64(row.payloadBytesIn))
        bytesOut = Traffic(header: Int64(row.headerBytesOut), framing: Int64(row.framingBytesOut),
                           payload: Int64(row.payloadBytesOut))
        readings = Int64(row.readings)
        batches = Int64(row.batches)
        duplicateBatches = Int64(row.duplicateBatches)
        calls = Int64(row.calls)
        connections = Int64(row.connections)
        errors = Int64(row.errors)
    }
}

extension BatchOutcome {
    /// What a stored batch adds to its bandwidth row: one batch, its newly stored readings, one duplicate when it
    /// was already stored. The one mapping from a store outcome to counters, for REST and gRPC alike.
    package var counters: BandwidthCounters {
        var counters = BandwidthCounters()
        counters.batches = 1
        counters.readings = Int64(readingsStored)
        counters.duplicateBatches = isDuplicate ? 1 : 0
        return counters
    }

    /// The acknowledgement of this one batch (a REST ingest's answer; a gRPC call sums its batches in its Ack).
    var ack: Ack {
        Ack(batches: 1, readings: UInt64(readingsStored), duplicateBatches: isDuplicate ? 1 : 0, lastSeq: lastSeq)
    }
}
