// What the collector says it saw, for the report's cross-check: per protocol from `GET /v1/bandwidth` (overhead
// rows included, as that endpoint sums them) and per (device, protocol) from `GET /v1/bandwidth/devices`.
//
// The collector's directions are the server's: `bytes_in` is what the devices sent, `bytes_out` what they
// received. Its `readings` are readings newly stored, which the simulator knows as the sum of `Ack.readings`.
// Protocol names are the collector's (`grpc-stream`, `grpc-unary`, `rest-json`; see `DeviceProtocol.collectorName`).
//
// A collector that counts TLS adds `tls_handshake_bytes_in/out`, `tls_record_bytes_in/out` and `segments_in/out`
// to each row; they are read when present (`tls`, `segments` stay nil for a collector without them).

import Telemetry

/// The collector's bandwidth figures; see above.
public struct CollectorFigures: Equatable, Sendable {
    /// One row's figures.
    public struct Counts: Equatable, Sendable {
        /// Bytes from the client(s).
        public var bytesIn: Int64
        /// Bytes to the client(s).
        public var bytesOut: Int64
        /// Readings newly stored.
        public var readings: Int64
        /// TLS bytes beyond the plaintext, in the simulator's directions (`handshakeSent` = the collector's
        /// `tls_handshake_bytes_in`); nil when the collector does not report them.
        public var tls: TLSBytes?
        /// TCP segments (sent = the collector's `segments_in`); nil when not reported. Never compared exactly:
        /// the two ends' counts differ by ACK timing.
        public var segments: (sent: Int64, received: Int64)? {
            get { segmentsSent.map { ($0, segmentsReceived ?? 0) } }
            set {
                segmentsSent = newValue?.sent
                segmentsReceived = newValue?.received
            }
        }
        var segmentsSent: Int64?
        var segmentsReceived: Int64?

        /// Figures from their parts.
        public init(bytesIn: Int64, bytesOut: Int64, readings: Int64, tls: TLSBytes? = nil) {
            self.bytesIn = bytesIn
            self.bytesOut = bytesOut
            self.readings = readings
            self.tls = tls
        }

        /// True when `other` (the collector's row) agrees: bytes and readings exactly, and TLS bytes exactly when
        /// both sides have them. Segments are not compared.
        public func agrees(with other: Counts) -> Bool {
            guard bytesIn == other.bytesIn, bytesOut == other.bytesOut, readings == other.readings else { return false }
            if let tls, let theirs = other.tls { return tls == theirs }
            return true
        }

        /// Adds another row.
        public static func += (lhs: inout Counts, rhs: Counts) {
            lhs.bytesIn += rhs.bytesIn
            lhs.bytesOut += rhs.bytesOut
            lhs.readings += rhs.readings
            if let tls = rhs.tls { lhs.tls = (lhs.tls ?? TLSBytes()) + tls }
            if let sent = rhs.segmentsSent { lhs.segmentsSent = (lhs.segmentsSent ?? 0) + sent }
            if let received = rhs.segmentsReceived { lhs.segmentsReceived = (lhs.segmentsReceived ?? 0) + received }
        }
    }

    /// One (device, protocol) row.
    public struct DeviceRow: Equatable, Sendable {
        /// The device id.
        public var deviceID: String
        /// The collector's protocol name.
        public var protocolName: String
        /// Its figures.
        public var counts: Counts

        /// A row from its parts.
        public init(deviceID: String, protocolName: String, counts: Counts) {
            self.deviceID = deviceID
            self.protocolName = protocolName
            self.counts = counts
        }
    }

    /// Per protocol, by the collector's protocol name.
    public var protocols: [String: Counts]
    /// Per (device, protocol).
    public var devices: [DeviceRow]

    /// Figures from their parts.
    public init(protocols: [String: Counts], devices: [DeviceRow]) {
        self.protocols = protocols
        self.devices = devices
    }

    /// Figures from the bodies of `GET /v1/bandwidth` and `GET /v1/bandwidth/devices`. Rows repeating a protocol
    /// (or a device and protocol) are added up; fields other than `protocol`, `device`, `bytes_in`, `bytes_out` and
    /// `readings` are ignored. Throws when a body is not JSON or a row lacks one of those fields.
    public init(bandwidthJSON: [UInt8], devicesJSON: [UInt8]) throws(DecodeError) {
        var protocols: [String: Counts] = [:]
        for row in try Self.rows(bandwidthJSON, key: "protocols") {
            protocols[row.protocolName, default: Counts(bytesIn: 0, bytesOut: 0, readings: 0)] += row.counts
        }
        var devices: [DeviceRow] = []
        var positions: [String: Int] = [:]
        for row in try Self.rows(devicesJSON, key: "devices") {
            let key = row.deviceID + "\u{0}" + row.protocolName
            if let position = positions[key] {
                devices[position].counts += row.counts
            } else {
                positions[key] = devices.count
                devices.append(row)
            }
        }
        self.init(protocols: protocols, devices: devices)
    }

    /// The rows of the array under `key` of a bandwidth response.
    private static func rows(_ body: [UInt8], key: String) throws(DecodeError) -> [DeviceRow] {
        let document = try JSONValue.parse(body)
        guard let array = document[key]?.arrayValue else { throw DecodeError(.missingField, path: key) }
        var rows: [DeviceRow] = []
        for (index, item) in array.enumerated() {
            let path = "\(key)[\(index)]"
            func number(_ field: String) throws(DecodeError) -> Int64 {
                guard let value = item[field]?.int64Value else {
                    throw DecodeError(.missingField, path: "\(path).\(field)")
                }
                return value
            }
            guard let protocolName = item["protocol"]?.stringValue else {
                throw DecodeError(.missingField, path: "\(path).protocol")
            }
            var counts = Counts(
                bytesIn: try number("bytes_in"), bytesOut: try number("bytes_out"),
                readings: try number("readings"))
            if let handshakeIn = item["tls_handshake_bytes_in"]?.int64Value {
                counts.tls = TLSBytes(
                    handshakeSent: handshakeIn, handshakeReceived: item["tls_handshake_bytes_out"]?.int64Value ?? 0,
                    recordSent: item["tls_record_bytes_in"]?.int64Value ?? 0,
                    recordReceived: item["tls_record_bytes_out"]?.int64Value ?? 0)
            }
            counts.segmentsSent = item["segments_in"]?.int64Value
            counts.segmentsReceived = item["segments_out"]?.int64Value
            rows.append(
                DeviceRow(
                    deviceID: item["device"]?.stringValue ?? "", protocolName: protocolName,
                    counts: counts))
        }
        return rows
    }
}
