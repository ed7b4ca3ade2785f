// Which REST endpoints need which credential. Decided when the request head is routed, before the body is read,
// for HTTP/1.1 and h2c alike.
//
//   POST /v1/devices/{device}/readings   the device's own token (or its TLS-PSK connection)
//   GET  /healthz, /readyz               open
//   GET  /metrics                        the admin token, unless `--metrics-auth none`
//   GET  /                               the admin token, as a header or `?token=` (a browser cannot set headers
//                                        when it navigates; the page then sends the header on its own requests)
//   GET  /v1/...                         the admin token, as a header only

import Accounting
import Telemetry

extension Authenticator {
    /// The refusal for a routed request with this `Authorization` value and query, or nil when allowed.
    func checkREST(
        _ route: RESTRoute, authorization: String?, query: [(name: String, value: String)],
        connectionDevice: String? = nil
    ) -> AccessRefusal?
    {
        guard settings.isEnabled else { return nil }
        switch route {
        case .health, .ready:
            return nil
        case .ingest(let deviceID):
            return checkDevice(deviceID, authorization: authorization, connectionDevice: connectionDevice)
        case .metrics:
            return settings.metricsNeedAdmin ? checkAdmin(authorization: authorization) : nil
        case .dashboard:
            return checkAdmin(authorization: authorization, queryToken: query.first { $0.name == "token" }?.value)
        case .bandwidth, .bandwidthDevices, .bandwidthDevice, .bandwidthHistory, .devices, .device, .readings,
            .series:
            return checkAdmin(authorization: authorization)
        }
    }
}
