// An IPv4 or IPv6 address plus port, stored compactly and turned into a sockaddr only at the syscall.

import Glibc

/// An IPv4 or IPv6 TCP endpoint such as `127.0.0.1:8080` or `[::1]:0`.
///
/// Plain value: the raw sockaddr stays inside EventIO and is built only when a syscall needs it.
public struct SocketAddress: Sendable, Hashable, CustomStringConvertible {
    /// The IP part, in network byte order as the kernel stores it.
    enum IP: Sendable, Hashable {
        case v4(in_addr_t)
        case v6(high: UInt64, low: UInt64, scopeID: UInt32)
    }

    /// The IP part.
    let ip: IP
    /// The TCP port; 0 asks the kernel to pick one when binding.
    public let port: UInt16

    /// Makes an address from its parts.
    init(ip: IP, port: UInt16) {
        self.ip = ip
        self.port = port
    }

    /// Makes an address from a numeric IP (`"10.0.0.7"`, `"::1"`) and a port; never touches DNS.
    public init(ipAddress: String, port: UInt16) throws(SocketAddressError) {
        var v4 = in_addr()
        if inet_pton(AF_INET, ipAddress, &v4) == 1 {
            self.init(ip: .v4(v4.s_addr), port: port)
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, ipAddress, &v6) == 1 {
            let (high, low) = withUnsafeBytes(of: v6) {
                ($0.load(as: UInt64.self), $0.load(fromByteOffset: 8, as: UInt64.self))
            }
            self.init(ip: .v6(high: high, low: low, scopeID: 0), port: port)
            return
        }
        throw .malformed(ipAddress)
    }

    /// True for IPv6 endpoints.
    public var isIPv6: Bool {
        if case .v6 = ip { return true }
        return false
    }

    /// The same IP with another port, e.g. to bind a source address with port 0.
    public func withPort(_ port: UInt16) -> SocketAddress { SocketAddress(ip: ip, port: port) }

    /// The IP in its usual text form: `"127.0.0.1"`, `"::1"`.
    public var ipAddress: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        switch ip {
        case .v4(let raw):
            var address = in_addr(s_addr: raw)
            inet_ntop(AF_INET, &address, &text, socklen_t(text.count))
        case .v6(let high, let low, _):
            var address = in6_addr()
            withUnsafeMutableBytes(of: &address) {
                $0.storeBytes(of: high, as: UInt64.self)
                $0.storeBytes(of: low, toByteOffset: 8, as: UInt64.self)
            }
            inet_ntop(AF_INET6, &address, &text, socklen_t(text.count))
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `"127.0.0.1:8080"` or `"[::1]:8080"`: the form `init(parsing:)` reads back.
    public var description: String { isIPv6 ? "[\(ipAddress)]:\(port)" : "\(ipAddress):\(port)" }

    /// The address family for socket(2).
    var family: Int32 { isIPv6 ? AF_INET6 : AF_INET }

    /// Calls `body` with this address as a sockaddr and its length.
    func withSockAddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(SystemError) -> Result)
        throws(SystemError) -> Result
    {
        switch ip {
        case .v4(let raw):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr = in_addr(s_addr: raw)
            return try withUnsafePointer(to: &address) { (pointer) throws(SystemError) -> Result in
                try body(
                    UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr.self),
                    socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        case .v6(let high, let low, let scopeID):
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            address.sin6_scope_id = scopeID
            withUnsafeMutableBytes(of: &address.sin6_addr) {
                $0.storeBytes(of: high, as: UInt64.self)
                $0.storeBytes(of: low, toByteOffset: 8, as: UInt64.self)
            }
            return try withUnsafePointer(to: &address) { (pointer) throws(SystemError) -> Result in
                try body(
                    UnsafeRawPointer(pointer).assumingMemoryBound(to: sockaddr.self),
                    socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
    }

    /// Reads a sockaddr the kernel filled in (getsockname, getpeername, getaddrinfo); nil for other families.
    init?(_ address: UnsafeRawPointer) {
        switch Int32(address.load(as: sa_family_t.self)) {
        case AF_INET:
            let v4 = address.loadUnaligned(as: sockaddr_in.self)
            self.init(ip: .v4(v4.sin_addr.s_addr), port: UInt16(bigEndian: v4.sin_port))
        case AF_INET6:
            let v6 = address.loadUnaligned(as: sockaddr_in6.self)
            let (high, low) = withUnsafeBytes(of: v6.sin6_addr) {
                ($0.load(as: UInt64.self), $0.load(fromByteOffset: 8, as: UInt64.self))
            }
            self.init(ip: .v6(high: high, low: low, scopeID: v6.sin6_scope_id), port: UInt16(bigEndian: v6.sin6_port))
        default:
            return nil
        }
    }
}

/// Why a text address could not be turned into a `SocketAddress`.
public enum SocketAddressError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Not of the form `host:port` / `[v6]:port`, a bad port, or (for numeric parsing) not an IP literal.
    case malformed(String)
    /// getaddrinfo found no IPv4 or IPv6 address for the host; `reason` is gai_strerror's text.
    case unknownHost(String, reason: String)

    /// Text for logs and command-line errors.
    public var description: String {
        switch self {
        case .malformed(let text): "malformed address \"\(text)\" (expected host:port or [v6]:port)"
        case .unknownHost(let host, let reason): "cannot resolve \"\(host)\": \(reason)"
        }
    }
}
