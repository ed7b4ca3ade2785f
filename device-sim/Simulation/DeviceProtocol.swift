// How a simulated device talks to the collector, and how `--protocol` assigns protocols to a fleet.
//
// The gRPC protocols' flag names are the collector's own names (WireProtocol, spelled once in Accounting); REST is
// `rest` on the command line and `rest-json` in the collector's report.

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

    /// The protocol named `name` in the simulator's flags and report, or nil.
    public init?(name: String) {
        guard let named = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = named
    }

    /// The name used by the simulator's flags and report.
    public var name: String {
        switch self {
        case .grpcStream, .grpcUnary, .grpcSync: wireProtocol.rawValue
        case .rest: "rest"
        }
    }

    /// The protocol of this device's rows in the collector's bandwidth report.
    public var wireProtocol: WireProtocol {
        switch self {
        case .grpcStream: .grpcStream
        case .grpcUnary: .grpcUnary
        case .grpcSync: .grpcSync
        case .rest: .restJSON
        }
    }

    /// The name of the protocol's rows in the collector's bandwidth report (`GET /v1/bandwidth`).
    public var collectorName: String { wireProtocol.rawValue }

    /// The protocols in report order.
    public static func < (lhs: DeviceProtocol, rhs: DeviceProtocol) -> Bool { lhs.rank < rhs.rank }

    /// Position in `allCases`.
    private var rank: Int {
        switch self {
        case .grpcStream: 0
        case .grpcUnary: 1
        case .rest: 2
        case .grpcSync: 3
        }
    }
}

/// The `--protocol` flag: one protocol for every device, or `mixed`.
public enum ProtocolMode: Equatable, Hashable, Sendable {
    /// Every device uses this protocol.
    case single(DeviceProtocol)
    /// Devices are split evenly over the four protocols.
    case mixed

    /// The mode named `name` (`grpc-stream`, `grpc-unary`, `rest` or `mixed`), or nil.
    public init?(name: String) {
        if name == "mixed" {
            self = .mixed
        } else if let single = DeviceProtocol(name: name) {
            self = .single(single)
        } else {
            return nil
        }
    }

    /// The flag's spelling of the mode.
    public var name: String {
        switch self {
        case .single(let single): single.name
        case .mixed: "mixed"
        }
    }

    /// The protocol of the device at `index` (0-based) in the fleet.
    ///
    /// `mixed` deals protocols round-robin in `DeviceProtocol.allCases` order (grpc-stream, grpc-unary, rest,
    /// grpc-sync), so the assignment depends only on the index, and any fleet size splits with counts that differ by
    /// at most one.
    public func protocolForDevice(at index: Int) -> DeviceProtocol {
        switch self {
        case .single(let single): single
        case .mixed: DeviceProtocol.allCases[index % DeviceProtocol.allCases.count]
        }
    }
}
