// Key and token files: how their bytes are read, and how a missing one is created.
//
// Reading: the secret is the file's content exactly, except that content made of printable ASCII followed by one
// trailing "\n" (or "\r\n") loses that newline, so `echo secret > file` and an editor's final newline do what
// people expect, while a binary key is used byte for byte. A file that group or others can read or write is used,
// with a warning naming the file (never its content).
//
// Creating: 32 bytes from getrandom(2) (via getentropy), written as 64 hex digits and a newline to a new file
// (O_EXCL, so two processes racing to create it cannot both win) with mode 0600, the parent directory created
// first when missing, and fsync'ed before it is used.

import Foundation
import Glibc

/// A secret read from (or just written to) a file.
public struct LoadedSecret: Sendable {
    /// The secret's bytes (see the reading rule above).
    public var bytes: [UInt8]
    /// True when the file did not exist and was created.
    public var wasCreated: Bool
    /// A warning for the log when the file's permissions are too open; it names the file, never the content.
    public var warning: String?
}

/// Reading and creating key and token files.
public enum SecretFile {
    /// Random bytes in a created secret.
    public static let createdByteCount = 32

    /// Reads the secret in `path`; throws naming the file when it cannot be read.
    public static func read(_ path: String) throws(TrustError) -> LoadedSecret {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw TrustError("cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw TrustError("cannot stat \(path): \(String(cString: strerror(errno)))")
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw TrustError("\(path) is not a regular file") }
        guard info.st_size <= 64 << 10 else { throw TrustError("\(path) is larger than 64 KiB; not a key file") }
        var content: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw TrustError("cannot read \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            content += chunk[0..<count]
            guard content.count <= 64 << 10 else { throw TrustError("\(path) is larger than 64 KiB; not a key file") }
        }
        var warning: String?
        if info.st_mode & 0o077 != 0 {
            let mode = String(info.st_mode & 0o777, radix: 8)
            warning = "\(path) can be read or written by group or others (mode 0\(mode)); run: chmod 600 \(path)"
        }
        return LoadedSecret(bytes: secretBytes(of: content), wasCreated: false, warning: warning)
    }

    /// Reads `path`, or creates it with a new random secret when it does not exist.
    public static func readOrCreate(_ path: String) throws(TrustError) -> LoadedSecret {
        if access(path, F_OK) == 0 { return try read(path) }
        do {
            return LoadedSecret(bytes: try create(path), wasCreated: true, warning: nil)
        } catch {
            // Another process created it between the check and our O_EXCL open: use theirs.
            if access(path, F_OK) == 0 { return try read(path) }
            throw error
        }
    }

    /// Writes a new random secret (64 hex digits and a newline, mode 0600) to `path`, which must not exist; returns
    /// the secret's bytes as `read` would return them.
    public static func create(_ path: String) throws(TrustError) -> [UInt8] {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            } catch {
                throw TrustError("cannot create the directory \(directory): \(error.localizedDescription)")
            }
        }
        let text = Array((Hex.encode(try randomBytes(createdByteCount)) + "\n").utf8)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw TrustError("cannot create \(path): \(String(cString: strerror(errno)))") }
        var failure: String?
        if fchmod(fd, 0o600) != 0 { failure = "chmod" }
        let written = text.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        if failure == nil && written != text.count { failure = "write" }
        if failure == nil && fsync(fd) != 0 { failure = "fsync" }
        let reason = String(cString: strerror(errno))
        close(fd)
        if let failure {
            unlink(path)
            throw TrustError("cannot create \(path) (\(failure)): \(reason)")
        }
        return secretBytes(of: text)
    }

    /// The secret in a file's content: see the reading rule above.
    public static func secretBytes(of content: [UInt8]) -> [UInt8] {
        var body = content[...]
        if body.last == UInt8(ascii: "\n") {
            body = body.dropLast()
            if body.last == UInt8(ascii: "\r") { body = body.dropLast() }
        } else {
            return content
        }
        let isPrintable = !body.isEmpty && body.allSatisfy { $0 >= 0x20 && $0 < 0x7f }
        return isPrintable ? Array(body) : content
    }

    /// `count` bytes from the kernel's CSPRNG (getrandom(2) through getentropy(3), at most 256 bytes per call).
    public static func randomBytes(_ count: Int) throws(TrustError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var offset = 0
        while offset < count {
            let take = min(256, count - offset)
            let result = bytes.withUnsafeMutableBytes { getentropy($0.baseAddress! + offset, take) }
            guard result == 0 else { throw TrustError("getrandom failed: \(String(cString: strerror(errno)))") }
            offset += take
        }
        return bytes
    }
}
