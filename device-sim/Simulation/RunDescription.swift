// The header of a report: what was run, so a saved report can be read on its own.

/// What a run was: fleet, sensors, timing, pacing, and how long it took.
public struct RunDescription: Equatable, Sendable {
    /// Devices in the fleet.
    public var deviceCount: Int
    /// `--protocol`.
    public var protocolMode: ProtocolMode
    /// `--seed`.
    public var seed: UInt64
    /// `--sensors`.
    public var sensors: [SensorKind]
    /// `--interval`, in ms.
    public var intervalMs: Int64
    /// `--batch`, in ms.
    public var batchMs: Int64
    /// `--speedup` or `--max-rate`.
    public var pacing: SimulatedClock.Pacing
    /// Real time the run took, in ns.
    public var elapsedNs: UInt64
    /// Simulated time the run covered, in ms; nil at max-rate.
    public var simulatedMs: Int64?
    /// Plaintext or TLS, keep-alive or per-batch, resumption (`--tls`, `--connection`, ...).
    public var link = LinkSettings()
    /// `--connect-codec`: how connect devices encode their requests.
    public var connectCodec = ConnectCodec.proto
    /// `--web-http`: the HTTP of grpc-web, grpc-web-text and connect devices.
    public var webHTTP = WebHTTPVersion.http1

    /// A description from its parts.
    public init(
        deviceCount: Int, protocolMode: ProtocolMode, seed: UInt64, sensors: [SensorKind], intervalMs: Int64,
        batchMs: Int64, pacing: SimulatedClock.Pacing, elapsedNs: UInt64, simulatedMs: Int64?
    ) {
        self.deviceCount = deviceCount
        self.protocolMode = protocolMode
        self.seed = seed
        self.sensors = sensors
        self.intervalMs = intervalMs
        self.batchMs = batchMs
        self.pacing = pacing
        self.elapsedNs = elapsedNs
        self.simulatedMs = simulatedMs
    }

    /// The description of a run of `configuration` that took `elapsedNs` real ns and covered `simulatedMs`.
    public init(configuration: FleetConfiguration, elapsedNs: UInt64, simulatedMs: Int64?) {
        let settings = configuration.settings
        self.init(
            deviceCount: configuration.deviceCount, protocolMode: configuration.protocolMode,
            seed: configuration.seed, sensors: settings.sensors, intervalMs: settings.intervalMs,
            batchMs: settings.batchMs, pacing: settings.clock.pacing, elapsedNs: elapsedNs,
            simulatedMs: simulatedMs)
        link.connectionMode = settings.connectionMode
    }

    /// The codec of the run's connect devices; nil when the mode deals no connect device.
    public var connectCodecUsed: ConnectCodec? {
        protocolMode.dealtProtocols.contains(.connect) ? connectCodec : nil
    }

    /// The HTTP of the run's gRPC-Web and Connect devices; nil when the mode deals none.
    public var webHTTPUsed: WebHTTPVersion? {
        protocolMode.dealtProtocols.contains(where: \.isWebPush) ? webHTTP : nil
    }

    /// The protocol mode as the report's header shows it: `--protocol`, the Connect codec when connect is dealt, and
    /// the HTTP of gRPC-Web and Connect when it is HTTP/2 (`grpc-unary,connect (connect json, web over HTTP/2)`).
    public var protocolText: String {
        var notes: [String] = []
        if let codec = connectCodecUsed { notes.append("connect \(codec.name)") }
        if let webHTTP = webHTTPUsed, webHTTP == .http2 { notes.append("web over \(webHTTP.description)") }
        return protocolMode.name + (notes.isEmpty ? "" : " (\(notes.joined(separator: ", ")))")
    }

    /// `speedup 60×` or `max-rate`.
    public var pacingText: String {
        switch pacing {
        case .speedup(let speedup):
            "speedup "
                + (speedup == speedup.rounded()
                    ? NumberText.fixed(speedup, decimals: 0)
                    : NumberText.fixed(speedup, decimals: 2)) + "×"
        case .maxRate: "max-rate"
        }
    }
}
