import Foundation
import Glibc
import Testing

@testable import Trust

@Suite struct SecretFileTests {
    /// A fresh directory under /tmp, removed by the test.
    static func makeDirectory() -> String {
        let path = NSTemporaryDirectory() + "trust-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test(arguments: [
        ("secret-key-0123456789\n", "secret-key-0123456789"),
        ("secret-key-0123456789\r\n", "secret-key-0123456789"),
        ("secret-key-0123456789", "secret-key-0123456789"),
        // Only one newline goes; a second one stays (the content is then not "printable ASCII + one newline").
        ("secret-key-0123456789\n\n", "secret-key-0123456789\n\n"),
        ("  spaced secret  \n", "  spaced secret  "),
    ])
    func readingDropsOneTrailingNewlineOfPrintableText(content: String, secret: String) {
        #expect(SecretFile.secretBytes(of: Array(content.utf8)) == Array(secret.utf8))
    }

    @Test func binaryContentIsUsedByteForByte() {
        let binary: [UInt8] = [0x00, 0xff, 0x10, 0x0a]  // ends in "\n" but is not printable text
        #expect(SecretFile.secretBytes(of: binary) == binary)
        #expect(SecretFile.secretBytes(of: [0x0a]) == [0x0a])
    }

    @Test func createdFileHasModeSixHundredAndSixtyFourHexDigits() throws {
        let directory = Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/nested/dir/fleet.key"
        let loaded = try SecretFile.readOrCreate(path)
        #expect(loaded.wasCreated)
        #expect(loaded.warning == nil)
        #expect(loaded.bytes.count == 64)
        #expect(Hex.decode(String(decoding: loaded.bytes, as: UTF8.self))?.count == 32)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        let content = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(Array(content) == loaded.bytes + [0x0a])
        // Read again: the same secret, not created.
        let again = try SecretFile.readOrCreate(path)
        #expect(!again.wasCreated)
        #expect(again.bytes == loaded.bytes)
        // Two created secrets differ.
        #expect(try SecretFile.create(directory + "/other.key") != loaded.bytes)
    }

    @Test func creatingOverAnExistingFileFails() throws {
        let directory = Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/key"
        try Data("existing-secret-value\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: TrustError.self) { try SecretFile.create(path) }
        #expect(try SecretFile.read(path).bytes == Array("existing-secret-value".utf8))
    }

    @Test func openPermissionsWarnNamingTheFileButNotTheContent() throws {
        let directory = Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/key"
        try Data("world-readable-secret\n".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o644)
        let loaded = try SecretFile.read(path)
        #expect(loaded.bytes == Array("world-readable-secret".utf8))
        let warning = try #require(loaded.warning)
        #expect(warning.contains(path))
        #expect(warning.contains("0644"))
        #expect(!warning.contains("world-readable-secret"))
        chmod(path, 0o600)
        #expect(try SecretFile.read(path).warning == nil)
    }

    @Test func missingFileAndDirectoryAreClearErrors() throws {
        let directory = Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: TrustError("cannot read \(directory)/absent: No such file or directory")) {
            try SecretFile.read(directory + "/absent")
        }
        #expect(throws: TrustError("\(directory) is not a regular file")) { try SecretFile.read(directory) }
    }

    @Test func randomBytesAreRandom() throws {
        let a = try SecretFile.randomBytes(300)
        let b = try SecretFile.randomBytes(300)
        #expect(a.count == 300)
        #expect(a != b)
    }
}
