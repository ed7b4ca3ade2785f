import Accounting
import Foundation
import Storage
import Store
import Telemetry
import Testing
import Trust

@testable import CollectorService

/// The authentication decisions, without sockets: a real store file for the device index and the deny list.
@Suite struct AuthenticatorTests {
    static let fleetKey = try! FleetKey(Array("fleet-key-for-tests-0123456789".utf8))
    static let admin = "admin-token-for-tests"
    static let settings = AuthenticationSettings(
        credentials: .init(fleetKey: fleetKey, adminToken: try! AdminToken(Array(admin.utf8))))

    /// A store in a fresh directory (removed by `cleanup`), optionally holding batches of `devices`.
    static func makeStore(devices: [String] = []) async throws -> (TelemetryStore, cleanup: () -> Void) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fw-auth-\(UUID().uuidString)")
        let store = try TelemetryStore(path: directory.appendingPathComponent("telemetry.db").path)
        for device in devices {
            _ = try await store.store(deviceID: device, batch: ReadingBatch(seq: 1, sensors: []))
        }
        return (
            store,
            {
                store.close()
                try? FileManager.default.removeItem(at: directory)
            }
        )
    }

    static func bearer(_ device: String) -> String { "Bearer " + fleetKey.token(for: device).hex }

    @Test func offAllowsEverything() async throws {
        let (store, cleanup) = try await Self.makeStore()
        defer { cleanup() }
        let authenticator = try Authenticator(settings: .off, store: store)
        #expect(authenticator.checkDevice("dev-1", authorization: nil) == nil)
        #expect(authenticator.checkAdmin(authorization: nil) == nil)
        #expect(authenticator.checkREST(.devices, authorization: nil, query: []) == nil)
        #expect(!authenticator.isRevoked("dev-1"))
    }

    @Test func deviceDecisions() async throws {
        let (store, cleanup) = try await Self.makeStore()
        defer { cleanup() }
        let authenticator = try Authenticator(settings: Self.settings, store: store)
        let cases: [(String?, AccessRefusal.Kind?, String)] = [
            (Self.bearer("dev-a"), nil, "its own token"),
            (nil, .unauthenticated, "missing"),
            ("Bearer", .unauthenticated, "no token"),
            ("Basic " + Self.fleetKey.token(for: "dev-a").hex, .unauthenticated, "another scheme"),
            ("Bearer abc", .unauthenticated, "not 64 hex digits"),
            ("Bearer " + String(repeating: "0", count: 64), .unauthenticated, "nobody's token"),
            ("Bearer " + Self.admin, .forbidden, "the admin token"),
            ("bearer " + Self.fleetKey.token(for: "dev-a").hex.uppercased(), nil, "scheme and hex in any case"),
        ]
        for (authorization, kind, name) in cases {
            #expect(authenticator.checkDevice("dev-a", authorization: authorization)?.kind == kind, "\(name)")
        }
    }

    @Test func anotherDevicesTokenIsForbiddenOnceThatDeviceIsKnown() async throws {
        let (store, cleanup) = try await Self.makeStore(devices: ["stored"])
        defer { cleanup() }
        let authenticator = try Authenticator(settings: Self.settings, store: store)
        #expect(authenticator.counts.indexedTokens == 1)
        // Known from the store at start.
        let stolen = authenticator.checkDevice("victim", authorization: Self.bearer("stored"))
        #expect(stolen == AccessRefusal(kind: .forbidden, message: "the token is for another device, not victim"))
        // Not known yet: a real token of a device that never authenticated is indistinguishable from a forgery.
        #expect(authenticator.checkDevice("victim", authorization: Self.bearer("fresh"))?.kind == .unauthenticated)
        #expect(authenticator.checkDevice("fresh", authorization: Self.bearer("fresh")) == nil)
        #expect(authenticator.checkDevice("victim", authorization: Self.bearer("fresh"))?.kind == .forbidden)
        #expect(authenticator.counts.indexedTokens == 2)
    }

    @Test func revocationIsFollowedFromTheStore() async throws {
        let (store, cleanup) = try await Self.makeStore()
        defer { cleanup() }
        let revocations = try DeviceRevocations(path: store.path)
        _ = try revocations.revoke(["early"], atMs: 1)
        let authenticator = try Authenticator(settings: Self.settings, store: store)
        #expect(
            authenticator.checkDevice("early", authorization: Self.bearer("early"))
                == AccessRefusal(kind: .forbidden, message: "device early is revoked"))
        // A wrong token stays a 401: whoever cannot authenticate learns nothing about revocation.
        #expect(authenticator.checkDevice("early", authorization: Self.bearer("other"))?.kind == .unauthenticated)
        #expect(try authenticator.reloadRevocations(from: store) == nil, "unchanged")
        _ = try revocations.revoke(["late"], atMs: 2)
        _ = try revocations.restore(["early"])
        #expect(try authenticator.reloadRevocations(from: store) == 1)
        #expect(authenticator.isRevoked("late") && !authenticator.isRevoked("early"))
        #expect(authenticator.checkDevice("early", authorization: Self.bearer("early")) == nil)
    }

    @Test func restRoutesAskForTheRightCredential() async throws {
        let (store, cleanup) = try await Self.makeStore()
        defer { cleanup() }
        let authenticator = try Authenticator(settings: Self.settings, store: store)
        let admin = "Bearer " + Self.admin
        let reads: [RESTRoute] = [
            .devices, .device(deviceID: "d"), .readings(deviceID: "d"), .series(deviceID: "d"),
            .bandwidth, .bandwidthDevices, .bandwidthDevice(deviceID: "d"), .bandwidthHistory,
            .dashboard, .metrics,
        ]
        for route in reads {
            #expect(authenticator.checkREST(route, authorization: nil, query: [])?.kind == .unauthenticated, "\(route)")
            #expect(authenticator.checkREST(route, authorization: admin, query: []) == nil, "\(route)")
            #expect(
                authenticator.checkREST(route, authorization: Self.bearer("d"), query: [])?.kind == .unauthenticated)
            // The query token is for the dashboard page only.
            let viaQuery = authenticator.checkREST(route, authorization: nil, query: [("token", Self.admin)])
            #expect((viaQuery == nil) == (route == .dashboard), "\(route)")
        }
        for route in [RESTRoute.health, .ready] {
            #expect(authenticator.checkREST(route, authorization: nil, query: []) == nil)
        }
        #expect(authenticator.checkREST(.ingest(deviceID: "d"), authorization: Self.bearer("d"), query: []) == nil)
        #expect(authenticator.checkREST(.ingest(deviceID: "d"), authorization: admin, query: [])?.kind == .forbidden)
        var open = Self.settings
        open.metricsNeedAdmin = false
        let metricsOpen = try Authenticator(settings: open, store: store)
        #expect(metricsOpen.checkREST(.metrics, authorization: nil, query: []) == nil)
        #expect(metricsOpen.checkREST(.bandwidth, authorization: nil, query: []) != nil)
    }

    @Test func aRefusedRequestIsBookedToTheOverheadRowWithItsErrorResponse() async throws {
        let (store, cleanup) = try await Self.makeStore()
        defer { cleanup() }
        let authenticator = try Authenticator(settings: Self.settings, store: store)
        var routed = RoutedRequest(method: "POST", target: "/v1/devices/dev-9/readings", isHTTP2: false)
        #expect(routed.key == BandwidthKey(WireProtocol.restJSON, "dev-9"))
        routed.checkAccess(authenticator, authorization: nil)
        #expect(routed.isAccessRefusal)
        #expect(routed.key == BandwidthKey(WireProtocol.restJSON, WireProtocol.overheadDevice))
        guard case .failure(let error) = routed.route else { return }
        #expect(error.status == 401)
        #expect(error.headers.map(\.name) == ["www-authenticate"])
        let json = String(decoding: error.response.body, as: UTF8.self)
        #expect(json.hasPrefix(#"{"error":"unauthenticated","message":"#))
        // gRPC statuses for the same refusals.
        #expect(AccessRefusal(kind: .unauthenticated, message: "m").grpcStatus.code == .unauthenticated)
        #expect(AccessRefusal(kind: .forbidden, message: "m").grpcStatus.code == .permissionDenied)
        // An allowed request keeps its device row.
        var allowed = RoutedRequest(method: "POST", target: "/v1/devices/dev-9/readings", isHTTP2: true)
        allowed.checkAccess(authenticator, authorization: Self.bearer("dev-9"))
        #expect(!allowed.isAccessRefusal && allowed.key == BandwidthKey(WireProtocol.restJSONH2, "dev-9"))
    }
}
