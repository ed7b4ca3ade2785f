/// A run of consecutive bytes of one HTTP/2 stream (0: the connection itself), already classified: what the
/// HTTP/2 connection ledger books. It is the ledger's own type, so this module needs no HTTP/2 library; the
/// collector converts its frame scanner's runs (frame type and part) into these.
public struct StreamByteRun: Equatable, Sendable {
    /// The frame's stream; 0 for connection-level frames and the preface.
    public var streamID: UInt32
    /// What the bytes carried.
    public var part: TrafficPart
    /// Number of bytes.
    public var count: Int

    /// Memberwise; public because the collector builds these from its frame scanner's runs.
    public init(streamID: UInt32, part: TrafficPart, count: Int) {
        self.streamID = streamID
        self.part = part
        self.count = count
    }
}
