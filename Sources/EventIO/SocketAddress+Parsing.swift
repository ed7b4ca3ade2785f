// Text to SocketAddress: "127.0.0.1:8080", "[::1]:0", and (with resolve) "localhost:8080".

internal import CLinux
import Glibc

extension SocketAddress {
    /// Parses a numeric `host:port` or `[v6]:port`, as given on a command line; never touches DNS.
    public init(parsing text: String) throws(SocketAddressError) {
        let (host, port) = try Self.split(text)
        do {
            try self.init(ipAddress: host, port: port)
        } catch {
            throw .malformed(text)
        }
    }

    /// Turns `host:port` into an address, looking the host up with getaddrinfo (/etc/hosts, then DNS) when it is
    /// not an IP literal, and taking the first answer. Blocking: call it at start-up, not on a loop thread.
    public static func resolve(_ text: String) throws(SocketAddressError) -> SocketAddress {
        let (host, port) = try split(text)
        if let numeric = try? SocketAddress(ipAddress: host, port: port) { return numeric }
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var results: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &results)
        guard status == 0, let results else {
            throw .unknownHost(host, reason: String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(results) }
        var cursor: UnsafeMutablePointer<addrinfo>? = results
        while let entry = cursor {
            if let raw = entry.pointee.ai_addr, let address = SocketAddress(UnsafeRawPointer(raw)) {
                return address.withPort(port)
            }
            cursor = entry.pointee.ai_next
        }
        throw .unknownHost(host, reason: "no IPv4 or IPv6 address")
    }

    /// Splits `host:port` / `[v6]:port` and checks the port is a decimal number in 0...65535.
    static func split(_ text: String) throws(SocketAddressError) -> (host: String, port: UInt16) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .malformed(text) }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw .malformed(text) }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw .malformed(text) }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            // An unbracketed IPv6 literal would be ambiguous: "::1:80".
            guard !host.contains(":") else { throw .malformed(text) }
        }
        guard !host.isEmpty, !portText.isEmpty, portText.count <= 5, portText.allSatisfy(\.isASCIIDigit),
            let port = UInt16(portText)
        else { throw .malformed(text) }
        return (String(host), port)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
