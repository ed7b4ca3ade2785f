// Who is asking, decided from the request head before any body byte is decoded.
//
// Devices: `Authorization: Bearer <token>` (gRPC metadata `authorization`), where the token must equal
// HMAC-SHA256(fleet key, claimed device id), compared in constant time. When it does not, the token may still be a
// real token of another device A posting as B (403, "token is for another device") rather than a forgery (401): to
// tell them apart without a database round trip, an index token → device holds every device in the store at start
// (one HMAC each) and every device that authenticated since. A token in no index is a 401. Index lookups go through
// Swift's per-process randomly seeded hashing and a hit is confirmed with a constant-time comparison of a freshly
// derived token, so neither path reveals how much of a guess was right.
//
// Order of checks for ingest: credential present and well-formed (401) → the admin token (403: it cannot write) →
// the claimed device's token (else another device's, 403, or nothing, 401) → the device is not revoked (403). A
// request that fails authentication learns nothing about revocation.
//
// A connection authenticated by a device's TLS-PSK is that device's: its writes need no header, and a write for
// another device is 403. Revocation still applies at every call (and refuses the next handshake).
//
// Reads: the admin token (constant time); anything else is 401. Tokens never appear in messages or the log: every
// refusal names only the device id and what was wrong.

import GRPC
import Storage
import Synchronization
import Telemetry
import Trust

/// Checks device and admin credentials; shared by every loop.
package final class Authenticator: Sendable {
    private struct State {
        /// Tokens known to belong to a device: every stored device's and every device that authenticated.
        var deviceOfToken: [DeviceToken: String] = [:]
        /// The deny list as last read from the store.
        var revoked: Set<String> = []
    }

    /// The keys and options it checks against.
    package let settings: AuthenticationSettings
    private let state = Mutex(State())

    /// An authenticator for `settings`; when on, indexes the tokens of the devices already in `store` and reads
    /// its deny list.
    package init(settings: AuthenticationSettings, store: any TelemetryStorage) throws(StoreError) {
        self.settings = settings
        guard let credentials = settings.credentials else { return }
        var index: [DeviceToken: String] = [:]
        var after: String?
        repeat {
            let page = try store.devices(namePrefix: nil, limit: 10_000, after: after)
            for device in page { index[credentials.fleetKey.token(for: device.name)] = device.name }
            after = page.count == 10_000 ? page.last?.name : nil
        } while after != nil
        let revoked = Set(try store.revokedDevices().map(\.device))
        state.withLock {
            $0.deviceOfToken = index
            $0.revoked = revoked
        }
    }

    /// Tokens indexed and devices revoked, for the start-up log line.
    package var counts: (indexedTokens: Int, revokedDevices: Int) {
        state.withLock { ($0.deviceOfToken.count, $0.revoked.count) }
    }

    /// Rereads the deny list; returns the number of revoked devices when it changed, nil otherwise.
    package func reloadRevocations(from store: any TelemetryStorage) throws(StoreError) -> Int? {
        let revoked = Set(try store.revokedDevices().map(\.device))
        return state.withLock { state in
            guard state.revoked != revoked else { return nil }
            state.revoked = revoked
            return revoked.count
        }
    }

    /// True when `deviceID` is on the deny list (always false with authentication off).
    package func isRevoked(_ deviceID: String) -> Bool {
        guard settings.isEnabled else { return false }
        return state.withLock { $0.revoked.contains(deviceID) }
    }

    /// The refusal for a write claimed to be by `deviceID` with this `Authorization` value, or nil when allowed.
    /// On a connection authenticated by a device's TLS-PSK (`connectionDevice`), the connection is the credential:
    /// no header is needed, and a write for any other device is refused (403).
    package func checkDevice(_ deviceID: String, authorization: String?, connectionDevice: String? = nil)
        -> AccessRefusal?
    {
        guard let credentials = settings.credentials else { return nil }
        if let connectionDevice {
            guard connectionDevice == deviceID else {
                return AccessRefusal(
                    kind: .forbidden,
                    message: "this TLS-PSK connection is device \(connectionDevice)'s; it cannot write for \(deviceID)")
            }
            return isRevoked(deviceID) ? AccessRefusal(kind: .forbidden, message: "device \(deviceID) is revoked") : nil
        }
        guard let authorization else {
            return AccessRefusal(
                kind: .unauthenticated,
                message: "missing authorization: send Authorization: Bearer <the device's token>")
        }
        guard let presented = BearerCredential.token(in: authorization) else {
            return AccessRefusal(kind: .unauthenticated, message: "malformed authorization: expected Bearer <token>")
        }
        if credentials.adminToken.matches(presented) {
            return AccessRefusal(
                kind: .forbidden,
                message: "the admin token cannot write telemetry; use the device's token")
        }
        guard let token = DeviceToken(hex: presented) else {
            return AccessRefusal(
                kind: .unauthenticated,
                message: "malformed authorization: a device token is 64 hex digits")
        }
        let expected = credentials.fleetKey.token(for: deviceID)
        if expected.matches(token) {
            let isRevoked = state.withLock { state in
                if state.deviceOfToken[expected] == nil { state.deviceOfToken[expected] = deviceID }
                return state.revoked.contains(deviceID)
            }
            return isRevoked ? AccessRefusal(kind: .forbidden, message: "device \(deviceID) is revoked") : nil
        }
        if let owner = state.withLock({ $0.deviceOfToken[token] }),
            credentials.fleetKey.token(for: owner).matches(token)
        {
            return AccessRefusal(kind: .forbidden, message: "the token is for another device, not \(deviceID)")
        }
        return AccessRefusal(kind: .unauthenticated, message: "invalid token for device \(deviceID)")
    }

    /// The refusal for a read with this `Authorization` value (or, for the dashboard page, `?token=`), or nil when
    /// it carries the admin token.
    package func checkAdmin(authorization: String?, queryToken: String? = nil) -> AccessRefusal? {
        guard let credentials = settings.credentials else { return nil }
        if let presented = BearerCredential.token(in: authorization), credentials.adminToken.matches(presented) {
            return nil
        }
        if let queryToken, credentials.adminToken.matches(queryToken) { return nil }
        if authorization == nil && queryToken == nil {
            return AccessRefusal(
                kind: .unauthenticated,
                message: "this endpoint needs Authorization: Bearer <admin token>")
        }
        return AccessRefusal(kind: .unauthenticated, message: "invalid admin token")
    }
}
