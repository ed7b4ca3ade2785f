// Helpers for the socket tests: waiting with a deadline, running code on a loop, shared tallies, raw client sockets,
// and reading /proc/self for descriptor and memory counts.

import Glibc
import Synchronization
import Testing

@testable import EventIO

/// The suite that holds every test that opens descriptors or measures memory: they run one at a time, so descriptor
/// counts and RSS deltas are not disturbed by each other.
@Suite(.serialized) struct SocketSuite {}

/// A value shared between a loop thread and the test thread.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    var value: Value { mutex.withLock { $0 } }
    func update<R: Sendable>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}

/// Polls `condition` every millisecond until it holds or `timeout` passes; returns whether it held.
@discardableResult
func waitUntil(timeout: Duration = .seconds(20), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}

/// Runs `body` on `loop`'s thread and returns its result to the calling (test) thread.
func onLoop<T: Sendable>(_ loop: EventLoop, _ body: @escaping @Sendable () throws -> T) throws -> T {
    let result = Shared<Result<T, any Error>?>(nil)
    #expect(loop.execute { result.update { $0 = Result { try body() } } })
    #expect(waitUntil { result.value != nil })
    return try result.value!.get()
}

/// The test's pattern byte at `offset`: payloads check every byte's position, not just the count.
func patternByte(_ offset: Int) -> UInt8 { UInt8(truncatingIfNeeded: offset % 251) }

/// `count` pattern bytes starting at `offset`.
func pattern(count: Int, from offset: Int = 0) -> [UInt8] { (offset..<offset + count).map(patternByte) }

/// The loopback listener address with a kernel-picked port.
let loopbackAnyPort = try! SocketAddress(parsing: "127.0.0.1:0")

/// Blocking client sockets driven from the test thread, for tests that need exact control of the peer.
enum RawClient {
    /// Connects a blocking socket to `address`.
    static func connect(to address: SocketAddress) throws -> Int32 {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(fd >= 0)
        let status = try address.withSockAddr { pointer, length in Glibc.connect(fd, pointer, length) }
        try #require(status == 0, "connect errno \(errno)")
        setReceiveTimeout(fd, seconds: 20)
        return fd
    }

    /// Starts a non-blocking connect and returns at once (for thousands of idle peers).
    static func startConnect(to address: SocketAddress) throws -> Int32 {
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = socket(address.family, flags, 0)
        try #require(fd >= 0, "socket errno \(errno)")
        let status = try address.withSockAddr { pointer, length in Glibc.connect(fd, pointer, length) }
        try #require(status == 0 || errno == EINPROGRESS, "connect errno \(errno)")
        return fd
    }

    /// Sends all of `bytes`.
    static func send(_ fd: Int32, _ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { break }
            offset += sent
        }
    }

    /// Reads until EOF (or error/timeout); returns the bytes and the errno that ended it (0 for a clean EOF).
    static func readToEnd(_ fd: Int32) -> (bytes: [UInt8], errno: Int32) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count > 0 {
                bytes += chunk[..<count]
            } else {
                return (bytes, count == 0 ? 0 : errno)
            }
        }
    }

    /// Reads exactly `count` bytes (fewer on EOF or error).
    static func read(_ fd: Int32, count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count < count {
            let got = recv(fd, &chunk, min(chunk.count, count - bytes.count), 0)
            guard got > 0 else { break }
            bytes += chunk[..<got]
        }
        return bytes
    }

    private static func setReceiveTimeout(_ fd: Int32, seconds: Int) {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }
}

/// What this process has open, from /proc/self.
enum ProcessProbe {
    /// Descriptors that are sockets, epoll instances or eventfds: everything EventIO opens.
    static func eventIODescriptorCount() -> Int {
        guard let directory = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(directory) }
        var count = 0
        var target = [CChar](repeating: 0, count: 256)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) {
                String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
            }
            guard name.first?.isNumber == true else { continue }
            let length = readlink("/proc/self/fd/\(name)", &target, target.count - 1)
            guard length > 0 else { continue }
            let link = String(decoding: target[..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if link.hasPrefix("socket:") || link == "anon_inode:[eventpoll]" || link == "anon_inode:[eventfd]" {
                count += 1
            }
        }
        return count
    }

    /// A NUL-terminated C buffer as a String.
    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The calling thread's name (/proc/thread-self/comm).
    static func currentThreadName() -> String {
        guard let file = fopen("/proc/thread-self/comm", "r") else { return "" }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, Int32(line.count), file) != nil else { return "" }
        return text(line).filter { $0 != "\n" }
    }

    /// Resident set size in KiB (VmRSS).
    static func residentKiB() -> Int {
        guard let file = fopen("/proc/self/status", "r") else { return -1 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 512)
        while fgets(&line, Int32(line.count), file) != nil {
            let entry = text(line)
            if entry.hasPrefix("VmRSS:") {
                return Int(entry.dropFirst(6).filter(\.isNumber)) ?? -1
            }
        }
        return -1
    }
}
