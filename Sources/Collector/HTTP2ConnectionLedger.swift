// One HTTP/2 connection's share of the bandwidth ledger: scanner runs in, rows out.
//
// Frames are tallied per stream as they are scanned (before nghttp2 has even parsed them), so a stream's bytes
// wait in its tally until the stream is identified (its request headers say protocol and device) or rejected.
// `drain` moves identified tallies and the connection-level tally to rows following the rules in Bandwidth.swift;
// `close` also books whatever was never identified as connection-level, so nothing is lost or counted twice.

import HTTP2

/// Attributes one HTTP/2 connection's bytes; owned by the connection's loop thread.
struct HTTP2ConnectionLedger {
    private struct Tally {
        var bytesIn = Traffic()
        var bytesOut = Traffic()
        /// gRPC prefix bytes not yet moved from payload to framing (moved at drain, never past the payload seen).
        var prefixIn: Int64 = 0
        var prefixOut: Int64 = 0
        var isEmpty: Bool { bytesIn.total == 0 && bytesOut.total == 0 }

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
    static let rememberedStreams = 64

    private var tallies: [UInt32: Tally] = [:]
    private var connection = Tally()
    private var identities: [UInt32: BandwidthKey] = [:]
    private var rejected: Set<UInt32> = []
    private var firstProtocol: String?
    private var devices: Set<String> = []
    private var lastDevice = ""

    /// Books one scanned run of bytes.
    mutating func record(_ run: HTTP2ByteRun, inbound: Bool) {
        let count = Int64(run.count)
        var traffic = Traffic()
        switch run.part {
        case .preface, .frameHeader: traffic.framing = count
        case .payload:
            switch run.frameType {
            case HTTP2FrameType.headers, HTTP2FrameType.continuation, 5: traffic.header = count  // 5: PUSH_PROMISE
            case HTTP2FrameType.data: traffic.payload = count
            default: traffic.framing = count
            }
        }
        if run.streamID == 0 || rejected.contains(run.streamID) {
            add(traffic, inbound: inbound, to: &connection)
        } else {
            add(traffic, inbound: inbound, to: &tallies[run.streamID, default: Tally()])
        }
    }

    private func add(_ traffic: Traffic, inbound: Bool, to tally: inout Tally) {
        if inbound { tally.bytesIn += traffic } else { tally.bytesOut += traffic }
    }

    /// A stream's request was accepted: its bytes belong to `key`.
    mutating func identify(streamID: Int32, as key: BandwidthKey) {
        let id = UInt32(streamID)
        identities[id] = key
        if firstProtocol == nil { firstProtocol = key.protocolName }
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
    mutating func reject(streamID: Int32, protocolName: String?) {
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
    mutating func messages(streamID: Int32, count: Int, inbound: Bool) {
        guard count > 0 else { return }
        let id = UInt32(streamID)
        let bytes = Int64(count * 5)
        if inbound { tallies[id, default: Tally()].prefixIn += bytes } else { tallies[id, default: Tally()].prefixOut += bytes }
    }

    /// The row connection-level bytes go to now.
    var connectionKey: BandwidthKey {
        let protocolName = firstProtocol ?? WireProtocol.h2c
        return BandwidthKey(protocolName, devices.count == 1 ? lastDevice : WireProtocol.overheadDevice)
    }

    /// Moves identified streams' bytes and connection-level bytes into rows.
    mutating func drain(into sink: (BandwidthKey, BandwidthCounters) -> Void) {
        for (id, var tally) in tallies where !tally.isEmpty {
            guard let key = identities[id] else { continue }
            tally.settlePrefixes()
            sink(key, Self.counters(tally))
            if tally.prefixIn > 0 || tally.prefixOut > 0 {
                tallies[id] = Tally(prefixIn: tally.prefixIn, prefixOut: tally.prefixOut)
            } else {
                tallies.removeValue(forKey: id)
            }
        }
        // Connection-level bytes wait until the connection has a first stream, unless it is closing.
        if !connection.isEmpty && firstProtocol != nil {
            sink(connectionKey, Self.counters(connection))
            connection = Tally()
        }
    }

    /// At connection close: everything left, unidentified streams included, becomes rows.
    mutating func close(into sink: (BandwidthKey, BandwidthCounters) -> Void) {
        drain(into: sink)
        for (_, tally) in tallies {
            connection.bytesIn += tally.bytesIn
            connection.bytesOut += tally.bytesOut
        }
        tallies = [:]
        if !connection.isEmpty {
            sink(connectionKey, Self.counters(connection))
            connection = Tally()
        }
    }

    private static func counters(_ tally: Tally) -> BandwidthCounters {
        var counters = BandwidthCounters()
        counters.bytesIn = tally.bytesIn
        counters.bytesOut = tally.bytesOut
        return counters
    }
}
