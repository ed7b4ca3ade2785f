import Accounting

extension RoutedRequest {
    /// Applies the access check to a successfully routed request: a refused request answers the refusal, and its
    /// bytes go to the protocol's overhead row (device ""), like every request refused at its head, so a device's
    /// row only ever holds traffic that proved to be that device's.
    /// `connectionDevice`: the device whose TLS-PSK authenticated the connection, if any.
    package mutating func checkAccess(
        _ authenticator: Authenticator, authorization: String?, connectionDevice: String? = nil
    ) {
        guard case .success(let route) = self.route,
            let refusal = authenticator.checkREST(
                route, authorization: authorization, query: query, connectionDevice: connectionDevice)
        else { return }
        self.route = .failure(refusal.restError)
        key = BandwidthKey(key.protocolName, WireProtocol.overheadDevice)
    }

    /// True when the request was refused by the access check (401 or 403).
    package var isAccessRefusal: Bool {
        if case .failure(let error) = route { return error.status == 401 || error.status == 403 }
        return false
    }
}
