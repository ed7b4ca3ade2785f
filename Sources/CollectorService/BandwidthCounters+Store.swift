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
            tlsHandshakeBytesIn: u(bytesIn.tlsHandshake), tlsHandshakeBytesOut: u(bytesOut.tlsHandshake),
            tlsRecordBytesIn: u(bytesIn.tlsRecord), tlsRecordBytesOut: u(bytesOut.tlsRecord),
            readings: u(readings), batches: u(batches), duplicateBatches: u(duplicateBatches), calls: u(calls),
            connections: u(connections), errors: u(errors), segmentsIn: u(segmentsIn), segmentsOut: u(segmentsOut))
    }

    /// Counters from a persisted row. The row's `bytesIn`/`bytesOut` are not read: the totals are the sums of the
    /// five parts, as when they were written.
    package init(_ row: CounterDelta) {
        func i(_ value: UInt64) -> Int64 { Int64(clamping: value) }
        self.init()
        bytesIn = Traffic(
            header: i(row.headerBytesIn), framing: i(row.framingBytesIn), payload: i(row.payloadBytesIn),
            tlsHandshake: i(row.tlsHandshakeBytesIn), tlsRecord: i(row.tlsRecordBytesIn))
        bytesOut = Traffic(
            header: i(row.headerBytesOut), framing: i(row.framingBytesOut), payload: i(row.payloadBytesOut),
            tlsHandshake: i(row.tlsHandshakeBytesOut), tlsRecord: i(row.tlsRecordBytesOut))
        readings = Int64(row.readings)
        batches = Int64(row.batches)
        duplicateBatches = Int64(row.duplicateBatches)
        calls = Int64(row.calls)
        connections = Int64(row.connections)
        errors = Int64(row.errors)
        segmentsIn = i(row.segmentsIn)
        segmentsOut = i(row.segmentsOut)
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
