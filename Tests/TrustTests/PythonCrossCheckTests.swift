// Our SHA-256 and HMAC-SHA256 (libcrypto underneath) against an independent implementation: Python's hashlib and
// hmac, run as a subprocess over a few hundred random keys and messages (keys from 0 to 200 bytes, so many are longer
// than the 64-byte block; messages from 0 to 1,000 bytes), generated from a fixed seed so a failure can be replayed.
// Python's hashlib may itself use OpenSSL, so this checks our use of libcrypto (key and message passing, empty
// inputs, copies) more than the algorithm; the NIST and RFC 4231 vectors pin the algorithm.

import Foundation
import SplitMix
import Testing

@testable import Trust

@Suite struct PythonCrossCheckTests {
    /// Random bytes and bounds from a seeded SplitMix64, so the cases are the same on every run.
    struct Generator {
        var random: SplitMix64
        mutating func bytes(_ count: Int) -> [UInt8] {
            (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
        mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }
    }

    static let script = """
        import sys, hashlib, hmac
        for line in sys.stdin:
            key, message = (bytes.fromhex(part) for part in line.split(",", 1))
            print(hashlib.sha256(message).hexdigest(), hmac.new(key, message, hashlib.sha256).hexdigest())
        """

    @Test func hashAndMACMatchPythonOnRandomKeysAndMessages() throws {
        var random = Generator(random: SplitMix64(seed: 20_261_121))
        var cases: [(key: [UInt8], message: [UInt8])] = []
        for index in 0..<300 {
            // Every fifth case sits on a block edge; the rest are spread over the whole range.
            let keyLength = index % 5 == 0 ? [0, 1, 63, 64, 65, 128, 129][index / 5 % 7] : random.below(201)
            let messageLength = index % 5 == 1 ? [0, 55, 56, 63, 64, 65, 119, 120][index / 5 % 8] : random.below(1001)
            cases.append((random.bytes(keyLength), random.bytes(messageLength)))
        }
        let input = cases.map { Hex.encode($0.key) + "," + Hex.encode($0.message) }.joined(separator: "\n") + "\n"
        let output = try Self.runPython(Self.script, input: input)
        let lines = output.split(separator: "\n")
        #expect(lines.count == cases.count)
        for (index, (testCase, line)) in zip(cases, lines).enumerated() {
            let fields = line.split(separator: " ").map(String.init)
            #expect(fields.count == 2)
            guard fields.count == 2 else { continue }
            #expect(
                Hex.encode(SHA256.hash(testCase.message)) == fields[0],
                "SHA-256 case \(index): \(testCase.message.count)-byte message")
            #expect(
                Hex.encode(HMACSHA256.authenticationCode(for: testCase.message, key: testCase.key)) == fields[1],
                "HMAC case \(index): \(testCase.key.count)-byte key, \(testCase.message.count)-byte message")
        }
    }

    @Test func deviceTokensMatchPythonHMACHexdigest() throws {
        let key = Array("0123456789abcdef0123456789abcdef".utf8)
        let devices = ["dev-00001", "a", "x.y:z-9_", String(repeating: "Z", count: 128)]
        let script = """
            import sys, hashlib, hmac
            key = sys.stdin.readline().rstrip("\\n").encode()
            for line in sys.stdin:
                print(hmac.new(key, line.rstrip("\\n").encode(), hashlib.sha256).hexdigest())
            """
        let output = try Self.runPython(
            script,
            input: String(decoding: key, as: UTF8.self) + "\n"
                + devices.joined(separator: "\n") + "\n")
        let fleetKey = try FleetKey(key)
        #expect(output.split(separator: "\n").map(String.init) == devices.map { fleetKey.token(for: $0).hex })
    }

    /// The provisioning one-liner from DevicePSK.swift gives the same PSKs, and they are not the tokens.
    @Test func devicePSKsMatchPythonHMACHexdigest() throws {
        let key = Array("0123456789abcdef0123456789abcdef".utf8)
        let devices = ["dev-00001", "a", "x.y:z-9_", String(repeating: "Z", count: 128)]
        let script = """
            import sys, hashlib, hmac
            key = sys.stdin.readline().rstrip("\\n").encode()
            for line in sys.stdin:
                device = line.rstrip("\\n")
                print(hmac.new(key, b"fleetwire tls-psk v1\\x00" + device.encode(), hashlib.sha256).hexdigest())
            """
        let output = try Self.runPython(
            script,
            input: String(decoding: key, as: UTF8.self) + "\n"
                + devices.joined(separator: "\n") + "\n")
        let fleetKey = try FleetKey(key)
        let pythonPSKs = output.split(separator: "\n").map(String.init)
        #expect(pythonPSKs == devices.map { fleetKey.tlsPSK(for: $0).hex })
        #expect(pythonPSKs.count == devices.count)
        for (device, psk) in zip(devices, pythonPSKs) { #expect(psk != fleetKey.token(for: device).hex, "\(device)") }
    }

    /// Runs `python3 -c script` with `input` on stdin and returns stdout; fails when Python is missing or fails.
    static func runPython(_ script: String, input: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script]
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        // Write from another thread: the output can fill the pipe before all input is written.
        let data = Data(input.utf8)
        let writer = Thread {
            stdin.fileHandleForWriting.write(data)
            try? stdin.fileHandleForWriting.close()
        }
        writer.start()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        let errors = stderr.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python3 failed: \(String(decoding: errors, as: UTF8.self))")
        return String(decoding: output, as: UTF8.self)
    }
}
