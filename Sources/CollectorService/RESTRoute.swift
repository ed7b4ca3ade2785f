// Which REST endpoint a request is for, and which protocol row it is accounted under. (The checks an ingest request
// must pass before its body is decoded are in RESTIngest.swift.)

import Accounting
import HTTP1
import Telemetry

/// The REST endpoints the collector serves.
public enum RESTRoute: Equatable, Sendable {
    /// `POST /v1/devices/{device}/readings`
    case ingest(deviceID: String)
    /// `GET /v1/bandwidth`
    case bandwidth
    /// `GET /v1/bandwidth/devices`
    case bandwidthDevices
    /// `GET /healthz`
    case health
    /// `GET /readyz`
    case ready
    /// `GET /metrics`
    case metrics
    /// `GET /v1/bandwidth/devices/{device}`
    case bandwidthDevice(deviceID: String)
    /// `GET /v1/bandwidth/history`
    case bandwidthHistory
    /// `GET /v1/devices`
    case devices
    /// `GET /v1/devices/{device}`
    case device(deviceID: String)
    /// `GET /v1/devices/{device}/readings`
    case readings(deviceID: String)
    /// `GET /v1/devices/{device}/series`
    case series(deviceID: String)
    /// `GET /`: the dashboard page (DashboardPage.swift)
    case dashboard

    /// Routes a method and path; throws 404 for unknown paths and 405 (with Allow) for known paths.
    public static func match(method: String, path: String) throws(RESTError) -> RESTRoute {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        let parts = Array(segments)
        switch parts.count {
        case 1 where parts[0] == "":
            try allow(method, ["GET", "HEAD"])
            return .dashboard
        case 1 where parts[0] == "healthz":
            try allow(method, ["GET", "HEAD"])
            return .health
        case 1 where parts[0] == "readyz":
            try allow(method, ["GET", "HEAD"])
            return .ready
        case 1 where parts[0] == "metrics":
            try allow(method, ["GET", "HEAD"])
            return .metrics
        case 3 where parts[0] == "v1" && parts[1] == "bandwidth" && parts[2] == "history":
            try allow(method, ["GET", "HEAD"])
            return .bandwidthHistory
        case 4 where parts[0] == "v1" && parts[1] == "bandwidth" && parts[2] == "devices":
            try allow(method, ["GET", "HEAD"])
            return .bandwidthDevice(deviceID: try deviceID(parts[3]))
        case 2 where parts[0] == "v1" && parts[1] == "bandwidth":
            try allow(method, ["GET", "HEAD"])
            return .bandwidth
        case 3 where parts[0] == "v1" && parts[1] == "bandwidth" && parts[2] == "devices":
            try allow(method, ["GET", "HEAD"])
            return .bandwidthDevices
        case 2 where parts[0] == "v1" && parts[1] == "devices":
            try allow(method, ["GET", "HEAD"])
            return .devices
        case 3 where parts[0] == "v1" && parts[1] == "devices":
            try allow(method, ["GET", "HEAD"])
            return .device(deviceID: try deviceID(parts[2]))
        case 4 where parts[0] == "v1" && parts[1] == "devices" && parts[3] == "readings":
            try allow(method, ["GET", "HEAD", "POST"])
            let id = try deviceID(parts[2])
            return method == "POST" ? .ingest(deviceID: id) : .readings(deviceID: id)
        case 4 where parts[0] == "v1" && parts[1] == "devices" && parts[3] == "series":
            try allow(method, ["GET", "HEAD"])
            return .series(deviceID: try deviceID(parts[2]))
        default:
            throw .notFound("no endpoint at \(path)")
        }
    }

    private static func deviceID(_ segment: Substring) throws(RESTError) -> String {
        guard let id = PercentDecoding.decode(segment), Identifiers.isValidDeviceID(id) else {
            throw .badRequest("device id in the path must match [A-Za-z0-9._:-]{1,128}")
        }
        return id
    }

    private static func allow(_ method: String, _ methods: [String]) throws(RESTError) {
        guard methods.contains(method) else { throw .methodNotAllowed(method, allow: methods) }
    }

    /// The protocol a request is accounted under: ingest POSTs are `rest-json` (or `rest-json-h2`), reads `query`.
    public static func wireProtocol(method: String, isHTTP2: Bool) -> WireProtocol {
        method == "POST" ? (isHTTP2 ? .restJSONH2 : .restJSON) : .query
    }
}
