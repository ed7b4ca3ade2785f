// `collector serve`'s TLS flags. TLS is on by default on the same port as plaintext: with no --tls-cert, a
// self-signed P-256 certificate and key are created on first start in the fleet key's folder (tls-cert.pem,
// tls-key.pem, key mode 0600), so `https://` works out of the box. Session tickets are encrypted with a key derived
// from `tls-ticket.key` beside the fleet key: it survives restarts (a sleeping device still resumes after one) and
// replicas that share it resume each other's tickets; --rotate-ticket-key replaces it (every ticket issued before
// then falls back to a full handshake once).

import Collector
import CollectorService
import Flags
import Foundation
import Glibc
import TLS
import Trust

let tlsFlagSpecs = [
    FlagSpec("tls", value: "on|off", default: "on",
             help: "serve TLS 1.3/1.2 on the same port (a ClientHello as first byte); off: plaintext only"),
    FlagSpec("tls-cert", value: "FILE",
             help: "PEM certificate (chain allowed); default: a self-signed one created in the fleet key's folder"),
    FlagSpec("tls-key", value: "FILE", help: "PEM private key of --tls-cert"),
    FlagSpec("plaintext", value: "allow|deny", default: "allow",
             help: "with TLS on, whether plaintext connections are served (deny: 426 / GOAWAY; for production)"),
    FlagSpec("tls-handshake-timeout", value: "DURATION", default: "10s",
             help: "a TLS handshake not finished this long after its first byte is closed"),
    FlagSpec("max-tls-handshakes", value: "N", default: "1024",
             help: "TLS handshakes in progress at once; connections beyond it are closed at their first byte"),
    FlagSpec("rotate-ticket-key", help: "replace the session-ticket key (tls-ticket.key) before starting"),
]

/// The TLS settings the flags ask for (nil: TLS off), creating the self-signed certificate and the ticket key when
/// missing; errors name the file.
func tlsSettings(_ flags: ParsedFlags, log: Log) throws(FlagError) -> (CollectorTLSSettings?, PlaintextPolicy) {
    guard let plaintext = PlaintextPolicy(rawValue: flags.string("plaintext")!) else {
        throw FlagError("--plaintext: expected allow or deny, got \"\(flags.string("plaintext")!)\"")
    }
    switch flags.string("tls")! {
    case "off":
        if plaintext == .deny { throw FlagError("--plaintext deny needs TLS on (--tls on)") }
        log.notice("TLS off: every connection is plaintext, and device tokens travel in clear")
        return (nil, .allow)
    case "on": break
    case let other: throw FlagError("--tls: expected on or off, got \"\(other)\"")
    }
    let folder = (flags.string("fleet-key-file")! as NSString).deletingLastPathComponent
    func beside(_ name: String) -> String { folder.isEmpty ? name : folder + "/" + name }
    var certificateFile = flags.string("tls-cert")
    var keyFile = flags.string("tls-key")
    switch (certificateFile, keyFile) {
    case (nil, nil):
        certificateFile = beside("tls-cert.pem")
        keyFile = beside("tls-key.pem")
        if access(certificateFile!, F_OK) != 0 || access(keyFile!, F_OK) != 0 {
            try createSelfSigned(certificateFile: certificateFile!, keyFile: keyFile!, log: log)
        }
    case (.some, nil): throw FlagError("--tls-cert needs --tls-key")
    case (nil, .some): throw FlagError("--tls-key needs --tls-cert")
    default: break
    }
    var settings = CollectorTLSSettings(certificateFile: certificateFile!, keyFile: keyFile!)
    settings.handshakeTimeoutMs = try timeout(flags, "tls-handshake-timeout")
    settings.maxConcurrentHandshakes = try flags.int("max-tls-handshakes", in: 1...1_000_000)!
    let ticketPath = beside("tls-ticket.key")
    do throws(TrustError) {
        if flags.bool("rotate-ticket-key") && access(ticketPath, F_OK) == 0 {
            guard unlink(ticketPath) == 0 else {
                throw TrustError("cannot remove \(ticketPath): \(String(cString: strerror(errno)))")
            }
            log.notice("session-ticket key rotated: \(ticketPath) replaced; earlier tickets no longer resume")
        }
        let loaded = try SecretFile.readOrCreate(ticketPath)
        if let warning = loaded.warning { log.warning(warning) }
        settings.ticketKey = ticketKey(from: loaded.bytes)
    } catch {
        throw FlagError("session-ticket key \(ticketPath): \(error)")
    }
    log.notice(
        "TLS on: certificate \(settings.certificateFile), session tickets keyed by \(ticketPath); per-device TLS-PSK "
            + "(identity = device id; `collector token DEVICE --psk`)")
    if plaintext == .allow {
        log.notice("plaintext connections are allowed too (--plaintext allow): their device tokens travel in clear")
    }
    return (settings, plaintext)
}

/// The 80 bytes OpenSSL's ticket key is made of (16 name, 32 HMAC key, 32 AES key), derived from the file's secret.
private func ticketKey(from secret: [UInt8]) -> [UInt8] {
    let name = HMACSHA256.authenticationCode(for: Array("fleetwire ticket name".utf8), key: secret)
    let mac = HMACSHA256.authenticationCode(for: Array("fleetwire ticket hmac".utf8), key: secret)
    let aes = HMACSHA256.authenticationCode(for: Array("fleetwire ticket aes".utf8), key: secret)
    return Array(name.prefix(16)) + mac + aes
}

private func createSelfSigned(certificateFile: String, keyFile: String, log: Log) throws(FlagError) {
    var hostNames = ["localhost", "127.0.0.1", "::1"]
    var buffer = [CChar](repeating: 0, count: 256)
    if gethostname(&buffer, buffer.count) == 0 {
        let host = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if !host.isEmpty && !hostNames.contains(host) { hostNames.append(host) }
    }
    let folder = (certificateFile as NSString).deletingLastPathComponent
    if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
    do throws(TLSError) {
        try SelfSignedCertificate.create(certificateFile: certificateFile, keyFile: keyFile, hostNames: hostNames)
    } catch {
        throw FlagError("cannot create the self-signed certificate \(certificateFile): \(error)")
    }
    log.notice(
        "created a self-signed TLS certificate for \(hostNames.joined(separator: ", ")): \(certificateFile) "
            + "(key \(keyFile)); clients trust it with curl --cacert \(certificateFile) or device-sim --ca")
}
