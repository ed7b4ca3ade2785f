import Telemetry

/// What a valid Telemetry request's head says once the router's generic checks passed: the method, the contract's
/// `device-id`, the deadline and the credentials. The server checks it (`init(method:validating:…)`); the client
/// builds its request head from it (`makeRequestHead`), so both halves spell the contract once.
public struct TelemetryRequestHead: Equatable, Sendable {
    /// Which RPC.
    public var method: TelemetryMethod
    /// The `device-id` metadata, validated against `[A-Za-z0-9._:-]{1,128}`.
    public var deviceID: String
    /// `grpc-timeout` in nanoseconds, when the client set a deadline.
    public var timeoutNanoseconds: UInt64?
    /// The `authorization` metadata, when present (checked by the collector, never logged).
    public var authorization: String?

    /// A head from known values (a client's call, a test).
    public init(
        method: TelemetryMethod, deviceID: String, timeoutNanoseconds: UInt64? = nil,
        authorization: String? = nil
    ) {
        self.method = method
        self.deviceID = deviceID
        self.timeoutNanoseconds = timeoutNanoseconds
        self.authorization = authorization
    }

    /// The contract's checks on a routed request (the router already checked method, content type, path,
    /// encoding and timeout): `device-id` must be present and valid.
    public init(method: TelemetryMethod, validating head: GRPCRequestHead, timeoutNanoseconds: UInt64?)
        throws(GRPCStatus)
    {
        guard let deviceID = head.metadata["device-id"] else {
            throw GRPCStatus(.invalidArgument, "missing device-id metadata")
        }
        guard Identifiers.isValidDeviceID(deviceID) else {
            throw GRPCStatus(.invalidArgument, "invalid device-id: must match [A-Za-z0-9._:-]{1,128}")
        }
        self.init(
            method: method, deviceID: deviceID, timeoutNanoseconds: timeoutNanoseconds,
            authorization: head.metadata["authorization"])
    }

    /// The request head a client sends for this call.
    public func makeRequestHead(authority: String) -> GRPCRequestHead {
        var metadata = GRPCMetadata()
        if let timeoutNanoseconds {
            metadata.append("grpc-timeout", GRPCTimeout.format(nanoseconds: timeoutNanoseconds))
        }
        metadata.append("content-type", "application/grpc")
        metadata.append("te", "trailers")
        metadata.append("device-id", deviceID)
        if let authorization { metadata.append("authorization", authorization) }
        return GRPCRequestHead(
            method: "POST", scheme: "http", path: method.rawValue, authority: authority,
            metadata: metadata)
    }
}
