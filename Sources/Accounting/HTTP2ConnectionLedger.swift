// One HTTP/2 connection's share of the bandwidth ledger: classified runs in, rows out (rules: ConnectionLedger.swift).
//
// Frames are tallied per stream as they are scanned (before nghttp2 has even parsed them), so a stream's bytes
// wait in its tally until the stream is identified (its request headers say protocol and device) or rejected.
// `drain` moves identified tallies and the connection-level tally to rows; `close` also books whatever was never
// identified, and the bytes read that no run covered, as connection-level, so nothing is lost or counted twice.

/// Attributes one HTTP/2 connection's bytes; owned by the connection's loop thread.
public struct HTTP2ConnectionLedger: ConnectionLedger {
    /// A stream's (or the connection's) bytes not yet handed over.
    private struct Tally {
        var bytesIn = Traffic()
        var bytesOut = Traffic()
        /// gRPC prefix bytes not yet moved from payload to framing (moved at drain, never past the payload seen).
        var prefixIn: Int64 = 0
        var prefixOut: Int64 = 0
        var isEmpty: Bool { bytesIn.total == 0 && bytesOut.total == 0 }

        mutating func add(_ traffic: Traffic, inbound: Bool) {
            if inbound { bytesIn += traffic } else { bytesOut += traffic }
        }

        /// Moves as much pending prefix as payload allows from payload to framing.
        mutating func settlePrefixes() {
            let inbound = min(prefixIn, bytesIn.payload)
            bytesIn.payload -= inbound
            bytesIn.framing += inbound
            prefixIn -= inbound
            let outbound = min(prefixOut, bytesOut.payload)
            bytesOut.payload -= outbound
            bytesOut.framing += outbound
            prefixOut -= outbound
        }
    }

    /// Streams remembered after they close, for late frames (a WINDOW_UPDATE, our RST after trailers).
    public static let rememberedStreams = 64

    private var tallies: [UInt32: Tally] = [:]
    private var connection = Tally()
    private var identities: [UInt32: BandwidthKey] = [:]
    private var rejected: Set<UInt32> = []
    private var firstProtocol: String?
    private var devices: Set<String> = []
    private var lastDevice = ""
    /// The row the connection was counted under, once it has been; `isCountPending` until that count is handed
    /// over.
    private var countedKey: BandwidthKey?
    private var isCountPending = false
    private var output = WrittenBytes<StreamByteRun>()
    private var bytesRead = 0
    private var bytesReceived = 0
    private var linkBooking = LinkBooking()
    /// Segments grown since they were last handed over, booked with the connection-level bytes.
    private var segmentsIn: Int64 = 0
    private var segmentsOut: Int64 = 0

    /// Nothing booked yet, and no stream identified.
    public init() {}

    /// `count` bytes were read from the socket; at close, any that no scanned run covered are connection-level framing.
    public mutating func read(_ count: Int) { bytesRead += count }

    /// Books one scanned run of received bytes.
    public mutating func received(_ run: StreamByteRun) {
        bytesReceived += run.count
        record(run, inbound: true)
    }

    /// Queues one scanned run of produced bytes, booked as `written` reports it sent.
    public mutating func queue(_ run: StreamByteRun) {
        output.append(run, count: run.count)
    }

    /// `count` bytes were written to the socket: books the queued runs they cover, in order, to their streams.
    public mutating func written(_ count: Int) {
        var pending = output  // moved out, so booking below may touch the rest of `self`
        output = WrittenBytes()
        pending.written(count) { run, count in
            record(StreamByteRun(streamID: run.streamID, part: run.part, count: count), inbound: false)
        }
        output = pending
    }

    private mutating func record(_ run: StreamByteRun, inbound: Bool) {
        let traffic = Traffic(run.part, Int64(run.count))
        if run.streamID == 0 || rejected.contains(run.streamID) {
            connection.add(traffic, inbound: inbound)
        } else {
            tallies[run.streamID, default: Tally()].add(traffic, inbound: inbound)
        }
    }

    /// Books the TLS bytes and segments that grew since the last call as connection-level.
    public mutating func link(_ totals: LinkTotals) {
        guard let growth = linkBooking.growth(to: totals) else { return }
        connection.bytesIn += growth.bytesIn
        connection.bytesOut += growth.bytesOut
        segmentsIn += growth.segmentsIn
        segmentsOut += growth.segmentsOut
    }

    /// The connection-level bytes and segments as counters, which then start again from zero.
    private mutating func takeConnectionCounters() -> BandwidthCounters {
        var counters = BandwidthCounters(bytesIn: connection.bytesIn, bytesOut: connection.bytesOut)
        counters.segmentsIn = segmentsIn
        counters.segmentsOut = segmentsOut
        connection = Tally()
        segmentsIn = 0
        segmentsOut = 0
        return counters
    }

    /// A stream's request was accepted: its bytes belong to `key`. The connection's first identified stream also
    /// counts the connection, under `key`.
    public mutating func identify(streamID: Int32, as key: BandwidthKey) {
        let id = UInt32(streamID)
        identities[id] = key
        if firstProtocol == nil { firstProtocol = key.protocolName }
        if countedKey == nil {
            countedKey = key
            isCountPending = true
        }
        if key.device != WireProtocol.overheadDevice {
            devices.insert(key.device)
            lastDevice = key.device
        }
        if identities.count > Self.rememberedStreams, let oldest = identities.keys.min(), oldest != id {
            identities.removeValue(forKey: oldest)
        }
    }

    /// A stream was refused at its headers: its bytes are connection-level. `protocolName` (when the path was
    /// known) can still decide the overhead row of a connection whose first stream this was.
    public mutating func reject(streamID: Int32, protocolName: String?) {
        let id = UInt32(streamID)
        rejected.insert(id)
        if firstProtocol == nil, let protocolName { firstProtocol = protocolName }
        if let tally = tallies.removeValue(forKey: id) {
            connection.bytesIn += tally.bytesIn
            connection.bytesOut += tally.bytesOut
        }
        if rejected.count > Self.rememberedStreams, let oldest = rejected.min(), oldest != id {
            rejected.remove(oldest)
        }
    }

    /// `count` gRPC messages crossed the stream in one direction: their 5-byte prefixes are framing, not payload.
    /// The shift is applied when the stream's bytes are drained, and never beyond the DATA payload already
    /// recorded, so no category ever goes negative (an outbound message is counted before its bytes are written).
    public mutating func messages(streamID: Int32, count: Int, inbound: Bool) {
        guard count > 0 else { return }
        let id = UInt32(streamID)
        let bytes = Int64(count * 5)
        if inbound {
            tallies[id, default: Tally()].prefixIn += bytes
        } else {
            tallies[id, default: Tally()].prefixOut += bytes
        }
    }

    /// The row connection-level bytes go to now.
    public var connectionKey: BandwidthKey {
        let protocolName = firstProtocol ?? WireProtocol.h2c.rawValue
        return BandwidthKey(protocolName, devices.count == 1 ? lastDevice : WireProtocol.overheadDevice)
    }

    /// Moves identified streams' bytes, connection-level bytes and the connection's count into rows.
    public mutating func drain(into sink: (BandwidthKey, BandwidthCounters) -> Void) {
        if isCountPending, let countedKey {
            isCountPending = false
            var counters = BandwidthCounters()
            counters.connections = 1
            sink(countedKey, counters)
        }
        for (id, var tally) in tallies where !tally.isEmpty {
            guard let key = identities[id] else { continue }
            tally.settlePrefixes()
            sink(key, BandwidthCounters(bytesIn: tally.bytesIn, bytesOut: tally.bytesOut))
            if tally.prefixIn > 0 || tally.prefixOut > 0 {
                tallies[id] = Tally(prefixIn: tally.prefixIn, prefixOut: tally.prefixOut)
            } else {
                tallies.removeValue(forKey: id)
            }
        }
        // Connection-level bytes wait until the connection has a first stream, unless it is closing.
        if (!connection.isEmpty || segmentsIn + segmentsOut > 0) && firstProtocol != nil {
            sink(connectionKey, takeConnectionCounters())
        }
    }

    /// At connection close: everything left, unidentified streams and bytes read but never scanned included,
    /// becomes rows; a connection that never identified a stream is counted under its connection row.
    public mutating func close(into sink: (BandwidthKey, BandwidthCounters) -> Void) {
        drain(into: sink)
        for (_, tally) in tallies {
            connection.bytesIn += tally.bytesIn
            connection.bytesOut += tally.bytesOut
        }
        tallies = [:]
        connection.bytesIn.framing += Int64(max(bytesRead - bytesReceived, 0))
        var counters = takeConnectionCounters()
        if countedKey == nil {
            countedKey = connectionKey
            counters.connections = 1
        }
        if !counters.isZero { sink(connectionKey, counters) }
    }
}
