// `collector token DEVICE [--psk]`: prints the device's token (or its TLS pre-shared key), and nothing else, for
// provisioning a device.

import Flags
import Foundation
import Telemetry
import Trust

let tokenFlags = FlagParser(
    command: "collector token DEVICE [--psk]",
    summary: """
        Prints the token of device DEVICE: HMAC-SHA256(fleet key, DEVICE) as 64 hex digits, the value a device sends \
        as Authorization: Bearer <token>. The same as Python's hmac.new(key, b"DEVICE", hashlib.sha256).hexdigest(). \
        With --psk, prints the device's TLS pre-shared key instead: HMAC-SHA256(fleet key, "fleetwire tls-psk v1" \
        0x00 DEVICE) as 64 hex digits, never equal to the token; the same as Python's hmac.new(key, \
        b"fleetwire tls-psk v1\\x00" + b"DEVICE", hashlib.sha256).hexdigest().
        """,
    specs: [
        FlagSpec("fleet-key-file", value: "PATH", default: "data/fleet.key", help: "the collector's fleet key"),
        FlagSpec("psk", help: "print the device's TLS pre-shared key instead of its bearer token"),
    ])

func token(_ arguments: [String]) throws(FlagError) {
    let flags = try tokenFlags.parse(arguments)
    if flags.wantsHelp {
        print(tokenFlags.helpText)
        return
    }
    guard flags.positional.count == 1 else {
        throw FlagError("expected exactly one device id, got \(flags.positional.count); see collector token --help")
    }
    let deviceID = flags.positional[0]
    guard Identifiers.isValidDeviceID(deviceID) else {
        throw FlagError("invalid device id \"\(deviceID)\": must match [A-Za-z0-9._:-]{1,128}")
    }
    let keyPath = flags.string("fleet-key-file")!
    do {
        let loaded = try SecretFile.read(keyPath)
        if let warning = loaded.warning {
            FileHandle.standardError.write(Data("collector: warning: \(warning)\n".utf8))
        }
        let fleetKey = try FleetKey(loaded.bytes)
        print(flags.bool("psk") ? fleetKey.tlsPSK(for: deviceID).hex : fleetKey.token(for: deviceID).hex)
    } catch {
        fail("\(error)", code: 1)
    }
}
