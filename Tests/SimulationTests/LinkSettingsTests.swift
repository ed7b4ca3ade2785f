import Testing

@testable import Simulation

/// The link flags (`--tls`, `--tls-auth`, `--connection`, `--resumption`, `--ca`) as values, and their messages.
@Suite struct LinkSettingsTests {
    static func parse(
        target: String = "http://127.0.0.1:8080", tls: Bool = false, tlsAuth: String? = nil,
        connection: String? = nil, resumption: String? = nil, ca: String? = nil, hasFleetKey: Bool = true,
        defaultCAFile: String? = nil
    ) -> Result<LinkSettings, LinkSettingsError> {
        LinkSettings.parse(
            target: target, tls: tls, tlsAuth: tlsAuth, connection: connection, resumption: resumption, ca: ca,
            hasFleetKey: hasFleetKey, defaultCAFile: defaultCAFile)
    }

    @Test func defaultsArePlaintextKeepAliveWithResumption() throws {
        let settings = try Self.parse().get()
        #expect(settings == LinkSettings(tls: nil, connectionMode: .keep, resumption: true, caFile: nil))
        #expect(settings.description == "plaintext, keep-alive")
    }

    @Test func perBatchWorksWithoutTLS() throws {
        let settings = try Self.parse(connection: "per-batch").get()
        #expect(settings.connectionMode == .perBatch && !settings.isTLS)
    }

    @Test(arguments: [
        (true, "http://127.0.0.1:8080", false),  // --tls with an explicit http:// target contradicts
        (true, "127.0.0.1:8080", true),  // --tls with host:port
        (false, "https://127.0.0.1:8443", true),  // https:// alone
        (false, "HTTPS://localhost:8443/", true),
    ])
    func tlsComesFromTheFlagOrAnHTTPSTarget(tls: Bool, target: String, isTLS: Bool) {
        switch Self.parse(target: target, tls: tls) {
        case .success(let settings): #expect(isTLS && settings.tls == .token)
        case .failure(let error): #expect(!isTLS && error.description.contains("https://"))
        }
    }

    @Test(arguments: [
        (nil, "per-batch?", nil, "--connection: expected keep or per-batch, got per-batch?"),
        (nil, nil, "yes", "--resumption: expected on or off, got yes"),
        ("cert", nil, nil, "--tls-auth: expected token or psk, got cert"),
    ] as [(String?, String?, String?, String)])
    func badValuesNameTheFlag(tlsAuth: String?, connection: String?, resumption: String?, message: String) {
        let result = Self.parse(target: "https://127.0.0.1:1", tlsAuth: tlsAuth, connection: connection,
                                resumption: resumption)
        #expect(throws: LinkSettingsError(message)) { try result.get() }
    }

    @Test(arguments: [("--tls-auth", "psk"), ("--resumption", "off"), ("--ca", "ca.pem")])
    func tlsOnlyFlagsNeedTLS(flag: String, value: String) {
        let result = Self.parse(
            tlsAuth: flag == "--tls-auth" ? value : nil, resumption: flag == "--resumption" ? value : nil,
            ca: flag == "--ca" ? value : nil)
        #expect(throws: LinkSettingsError("\(flag) needs TLS: add --tls or use an https:// --target")) {
            try result.get()
        }
    }

    @Test func pskNeedsTheFleetKey() throws {
        #expect(throws: LinkSettingsError.self) {
            try Self.parse(tls: true, tlsAuth: "psk", hasFleetKey: false).get()
        }
        let settings = try Self.parse(target: "https://h:1", tlsAuth: "psk", connection: "per-batch").get()
        #expect(settings.tls == .psk && settings.connectionMode == .perBatch)
        #expect(settings.description == "TLS (PSK), per-batch reconnect")
    }

    @Test func anExplicitCAWinsOverTheDefault() throws {
        let settings = try Self.parse(target: "https://127.0.0.1:1", ca: "mine.pem", defaultCAFile: "data/tls-cert.pem")
            .get()
        #expect(settings.caFile == "mine.pem")
        #expect(try Self.parse(target: "https://127.0.0.1:1", defaultCAFile: "d.pem").get().caFile == "d.pem")
        #expect(try Self.parse(target: "https://127.0.0.1:1", resumption: "off").get().description
            == "TLS (certificate, token), keep-alive, resumption off")
    }

    @Test func defaultCAIsTheCollectorsCertificateForALocalTargetOnly() {
        let readable: Set = ["keys/tls-cert.pem", "data/tls-cert.pem"]
        func ca(_ host: String, _ keyFile: String?, _ files: Set<String> = readable) -> String? {
            LinkSettings.defaultCAFile(targetHost: host, fleetKeyFile: keyFile, isReadable: { files.contains($0) })
        }
        #expect(ca("127.0.0.1", "keys/fleet.key") == "keys/tls-cert.pem")  // beside the fleet key first
        #expect(ca("localhost", nil) == "data/tls-cert.pem")
        #expect(ca("::1", "elsewhere/fleet.key") == "data/tls-cert.pem")  // not readable there: data/
        #expect(ca("127.0.0.1", "keys/fleet.key", []) == nil)  // nothing readable: the system store
        #expect(ca("collector.example", "keys/fleet.key") == nil)  // not local: the system store
        #expect(ca("127.0.0.1", "fleet.key", ["./tls-cert.pem"]) == "./tls-cert.pem")
    }

    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1"), ("[::1]:8443", "::1"), ("localhost:1", "localhost"), ("::1", "::1"),
        ("host", "host"),
    ])
    func hostOfTarget(target: String, host: String) {
        #expect(LinkSettings.host(of: target) == host)
    }
}
