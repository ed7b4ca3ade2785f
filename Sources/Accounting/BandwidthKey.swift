/// Identifies a row of the bandwidth report: a protocol and a device ("" for the protocol's overhead row).
///
/// The protocol is kept as its persisted name rather than a `WireProtocol`, because rows are read back from the
/// store and filtered by names from the REST API; everything the collector books is created from a `WireProtocol`.
public struct BandwidthKey: Hashable, Sendable, Comparable {
    /// A `WireProtocol` raw value.
    public var protocolName: String
    /// The device, or `WireProtocol.overheadDevice`.
    public var device: String

    /// A row by its persisted protocol name: for rows read back from the store and names from the REST API.
    public init(_ protocolName: String, _ device: String) {
        self.protocolName = protocolName
        self.device = device
    }

    /// The row of `device` under `wireProtocol`; how everything the collector books is keyed.
    public init(_ wireProtocol: WireProtocol, _ device: String) {
        self.init(wireProtocol.rawValue, device)
    }

    /// The protocol's overhead row.
    public static func overhead(_ wireProtocol: WireProtocol) -> BandwidthKey {
        BandwidthKey(wireProtocol, WireProtocol.overheadDevice)
    }

    /// Orders by protocol name, then device, so reports list rows in a stable order.
    public static func < (lhs: BandwidthKey, rhs: BandwidthKey) -> Bool {
        (lhs.protocolName, lhs.device) < (rhs.protocolName, rhs.device)
    }
}
