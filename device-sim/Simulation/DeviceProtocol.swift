// How a simulated device talks to the collector, and how `--protocol` assigns protocols to a fleet.
//
// The gRPC protocols' flag names are the collector's own names (WireProtocol, spelled once in Accounting); REST is
// `rest` on the command line and `rest-json` in the collector's report.
//
// Assignment. `mixed` deals the four original protocols (grpc-stream, grpc-unary, rest, grpc-sync) round-robin and
// never the later ones: benchmarks recorded against `mixed` stay comparable. A comma-separated list deals the listed
// protocols round-robin in the order given. Either way device i's protocol depends only on i, and any fleet splits
// with counts that differ by at most one.

import Accounting

/// The protocol one device uses for all its uploads.
public enum DeviceProtocol: CaseIterable, Equatable, Hashable, Sendable, Comparable {
    /// gRPC `Upload`: one client stream carries a window of batches, then one Ack.
    case grpcStream
    /// gRPC `Push`: one unary call, one Ack, per batch.
    case grpcUnary
    /// REST: one `POST /v1/devices/{device}/readings` (HTTP/1.1, JSON body) per batch.
    case rest
    /// gRPC `Sync`: one bidirectional stream carries a window of batches, an Ack per commit.
    case grpcSync
    /// gRPC-Web `Push` over HTTP/1.1, binary frames (`application/grpc-web+proto`): one request per batch.
    case grpcWeb
    /// gRPC-Web `Push` over HTTP/1.1, the frames in base64 (`application/grpc-web-text`): one request per batch.
    case grpcWebText
    /// Connect unary `Push` over HTTP/1.1 (`application/proto` or `application/json`, `--connect-codec`): one
    /// request per batch.
    case connect

    /// The protocol named `name` in the simulator's flags and report, or nil.
    public init?(name: String) {
        guard let named = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = named
    }

    /// The name used by the simulator's flags and report.
    public var name: String {
        switch self {
        case .rest: "rest"
        default: wireProtocol.rawValue
        }
    }

    /// The protocol of this device's rows in the collector's bandwidth report.
    public var wireProtocol: WireProtocol {
        switch self {
        case .grpcStream: .grpcStream
        case .grpcUnary: .grpcUnary
        case .grpcSync: .grpcSync
        case .rest: .restJSON
        case .grpcWeb: .grpcWeb
        case .grpcWebText: .grpcWebText
        case .connect: .connect
        }
    }

    /// The name of the protocol's rows in the collector's bandwidth report (`GET /v1/bandwidth`).
    public var collectorName: String { wireProtocol.rawValue }

    /// True for the protocols always spoken over HTTP/2 (h2c, or TLS with ALPN `h2`); the others use HTTP/1.1
    /// keep-alive (ALPN `http/1.1`), except that `--web-http 2` moves gRPC-Web and Connect to HTTP/2
    /// (`usesHTTP2(webHTTP:)`).
    public var usesHTTP2: Bool {
        switch self {
        case .grpcStream, .grpcUnary, .grpcSync: true
        case .rest, .grpcWeb, .grpcWebText, .connect: false
        }
    }

    /// The protocols `mixed` deals, in its order: the four it has always split (benchmarks depend on it).
    public static let mixedProtocols: [DeviceProtocol] = [.grpcStream, .grpcUnary, .rest, .grpcSync]

    /// The protocols in report order.
    public static func < (lhs: DeviceProtocol, rhs: DeviceProtocol) -> Bool { lhs.rank < rhs.rank }

    /// Position in `allCases`.
    var rank: Int {
        switch self {
        case .grpcStream: 0
        case .grpcUnary: 1
        case .rest: 2
        case .grpcSync: 3
        case .grpcWeb: 4
        case .grpcWebText: 5
        case .connect: 6
        }
    }
}

/// The `--protocol` flag: one protocol for every device, `mixed`, or a comma-separated list.
public enum ProtocolMode: Equatable, Hashable, Sendable {
    /// Every device uses this protocol.
    case single(DeviceProtocol)
    /// Devices are split evenly over `DeviceProtocol.mixedProtocols` (grpc-stream, grpc-unary, rest, grpc-sync).
    case mixed
    /// Devices are dealt round-robin over these protocols (at least two, no repeats), in this order.
    case list([DeviceProtocol])

    /// The mode named `name` (a protocol's name, `mixed`, or a list such as `grpc-unary,grpc-web,connect`), or nil.
    public init?(name: String) {
        guard case .success(let mode) = Self.parse(name) else { return nil }
        self = mode
    }

    /// The mode `text` names, or why it names none (the first unknown or repeated entry of a list).
    public static func parse(_ text: String) -> Result<ProtocolMode, UnknownProtocol> {
        if text == "mixed" { return .success(.mixed) }
        var listed: [DeviceProtocol] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let named = DeviceProtocol(name: String(part)) else {
                return .failure(UnknownProtocol(text: text, entry: String(part)))
            }
            guard !listed.contains(named) else {
                return .failure(UnknownProtocol(text: text, entry: String(part), isRepeated: true))
            }
            listed.append(named)
        }
        return .success(listed.count == 1 ? .single(listed[0]) : .list(listed))
    }

    /// The flag's spelling of the mode.
    public var name: String {
        switch self {
        case .single(let single): single.name
        case .mixed: "mixed"
        case .list(let listed): listed.map(\.name).joined(separator: ",")
        }
    }

    /// The protocols the mode deals, in dealing order.
    public var dealtProtocols: [DeviceProtocol] {
        switch self {
        case .single(let single): [single]
        case .mixed: DeviceProtocol.mixedProtocols
        case .list(let listed): listed
        }
    }

    /// The protocol of the device at `index` (0-based) in the fleet: round-robin over `dealtProtocols` (see the top
    /// of this file).
    public func protocolForDevice(at index: Int) -> DeviceProtocol {
        switch self {
        case .single(let single): single
        case .mixed: DeviceProtocol.mixedProtocols[index % DeviceProtocol.mixedProtocols.count]
        case .list(let listed): listed[index % listed.count]
        }
    }

    /// A `--protocol` value that names no mode.
    public struct UnknownProtocol: Error, Equatable, Sendable, CustomStringConvertible {
        /// The whole value as given.
        public var text: String
        /// The entry that is wrong (the whole value when it is not a list).
        public var entry: String
        /// True when the entry is known but listed twice.
        public var isRepeated = false

        /// A sentence naming the entry and what is accepted.
        public var description: String {
            if isRepeated { return "\(entry) is listed twice in \(text)" }
            let known = DeviceProtocol.allCases.map(\.name).joined(separator: ", ")
            let what = entry.isEmpty ? "an empty entry" : "unknown protocol '\(entry)'"
            return "\(what) (expected mixed, or one or more of \(known), comma-separated)"
        }
    }
}
