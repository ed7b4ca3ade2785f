// Socket set-up helpers shared by the listener, outbound connects and connections; all through the funnel.

internal import CLinux
import Glibc

/// Thin wrappers over the socket calls EventIO makes, so each option is set one way everywhere.
enum Socket {
    /// A non-blocking, close-on-exec TCP socket for `family`.
    static func makeStream(family: Int32) throws(SystemError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        return try Syscall.run("socket") { socket(family, type, 0) }
    }

    /// Sets an integer socket option.
    static func setOption(
        _ fd: Int32, level: Int32, name: Int32, value: Int32, call: StaticString = "setsockopt"
    ) throws(SystemError) {
        var value = value
        _ = try Syscall.run(call) { setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) }
    }

    /// Disables Nagle: handlers coalesce their own writes, so small writes (acks, HTTP/2 frames) go out at once.
    static func setNoDelay(_ fd: Int32) throws(SystemError) {
        try setOption(fd, level: Int32(IPPROTO_TCP), name: TCP_NODELAY, value: 1)
    }

    /// Binds `fd` to `address`.
    static func bind(_ fd: Int32, to address: SocketAddress) throws(SystemError) {
        _ = try address.withSockAddr { (pointer, length) throws(SystemError) in
            try Syscall.run("bind") { Glibc.bind(fd, pointer, length) }
        }
    }

    /// Binds an outbound socket to a source IP, leaving the port to connect() (IP_BIND_ADDRESS_NO_PORT), so
    /// several source IPs give several ~28k port ranges towards one server.
    static func bindSource(_ fd: Int32, to address: SocketAddress) throws(SystemError) {
        if address.port == 0 {
            try setOption(fd, level: Int32(IPPROTO_IP), name: IP_BIND_ADDRESS_NO_PORT, value: 1)
        }
        try bind(fd, to: address)
    }

    /// The address the kernel bound `fd` to (learns the port picked for port 0).
    static func localAddress(_ fd: Int32) throws(SystemError) -> SocketAddress? {
        try address(fd, "getsockname") { getsockname($0, $1, $2) }
    }

    /// The peer's address, for logs.
    static func remoteAddress(_ fd: Int32) throws(SystemError) -> SocketAddress? {
        try address(fd, "getpeername") { getpeername($0, $1, $2) }
    }

    /// The pending socket error (SO_ERROR), which also clears it: the outcome of a non-blocking connect.
    static func pendingError(_ fd: Int32) throws(SystemError) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try Syscall.run("getsockopt") { getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) }
        return value
    }

    /// Sends FIN: the peer reads EOF after the bytes already sent.
    /// The kernel's segment counts for `fd`; nil when TCP_INFO is unavailable.
    static func segmentCounts(_ fd: Int32) -> SegmentCounts? {
        var inbound: UInt32 = 0
        var outbound: UInt32 = 0
        guard fw_tcp_segment_counts(fd, &inbound, &outbound) == 0 else { return nil }
        return SegmentCounts(inbound: UInt64(inbound), outbound: UInt64(outbound))
    }

    static func shutdownOutput(_ fd: Int32) throws(SystemError) {
        _ = try Syscall.run("shutdown") { shutdown(fd, Int32(SHUT_WR)) }
    }

    private static func address(
        _ fd: Int32, _ call: StaticString,
        _ body: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32
    ) throws(SystemError) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        return try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SystemError) -> SocketAddress? in
            let raw = UnsafeMutableRawPointer(pointer)
            _ = try Syscall.run(call) { body(fd, raw.assumingMemoryBound(to: sockaddr.self), &length) }
            return SocketAddress(UnsafeRawPointer(raw))
        }
    }
}
