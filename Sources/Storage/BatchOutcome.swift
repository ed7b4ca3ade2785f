/// What storing one batch did: the store's answer behind a device's acknowledgement.
public struct BatchOutcome: Equatable, Sendable {
    /// Readings newly stored: readings whose (sensor, ts) was already stored are not counted (first write wins).
    public var readingsStored: Int
    /// True when `(device, seq)` was already stored, so nothing of this batch was written.
    public var isDuplicate: Bool
    /// The device's highest stored seq after the commit.
    public var lastSeq: UInt64

    /// An outcome with the given fields.
    public init(readingsStored: Int, isDuplicate: Bool, lastSeq: UInt64) {
        self.readingsStored = readingsStored
        self.isDuplicate = isDuplicate
        self.lastSeq = lastSeq
    }
}
