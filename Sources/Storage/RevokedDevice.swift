/// A revoked device and when it was revoked.
public struct RevokedDevice: Equatable, Sendable {
    /// The device id.
    public var device: String
    /// Wall-clock Unix ms of the revocation.
    public var revokedAtMs: Int64

    /// Memberwise.
    public init(device: String, revokedAtMs: Int64) {
        self.device = device
        self.revokedAtMs = revokedAtMs
    }
}
