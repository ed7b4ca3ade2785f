// `collector token DEVICE`: prints the device's token, and nothing else, for provisioning a device.

import Flags
import Foundation
import Telemetry
import Trust

let tokenFlags = FlagParser(
    command: "collector token DEVICE",
    summary: """
        Prints the token of device DEVICE: HMAC-SHA256(fleet key, DEVICE) as 64 hex digits, the value a device sends \
        as Authorization: Bearer <token>. The same as Python's hmac.new(key, b"DEVICE", hashlib.sha256).hexdigest().
        """,
    specs: [
        FlagSpec("fleet-key-file", value: "PATH", default: "data/fleet.key", help: "the collector's fleet key")
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
        print(try FleetKey(loaded.bytes).token(for: deviceID).hex)
    } catch {
        fail("\(error)", code: 1)
    }
}
