// Address text in and out: the forms the collector's --listen flag and the simulator's --target accept.

import Testing

@testable import EventIO

@Suite struct SocketAddressTests {
    @Test(arguments: [
        ("127.0.0.1:8080", "127.0.0.1", UInt16(8080), false),
        ("0.0.0.0:0", "0.0.0.0", 0, false),
        ("[::1]:0", "::1", 0, true),
        ("[::]:443", "::", 443, true),
        ("[2001:db8::7]:65535", "2001:db8::7", 65535, true),
    ])
    func parsesNumericAddresses(text: String, ip: String, port: UInt16, isIPv6: Bool) throws {
        let address = try SocketAddress(parsing: text)
        #expect(address.ipAddress == ip)
        #expect(address.port == port)
        #expect(address.isIPv6 == isIPv6)
        #expect(address.description == text, "description reads back")
    }

    @Test(arguments: [
        "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:+80", "127.0.0.1:0x50",
        "::1:80", "[::1]80", "[::1", "[127.0.0.1]:80x", "localhost:8080", "256.0.0.1:80", "[]:80",
    ])
    func rejectsMalformedOrNonNumericText(text: String) {
        #expect(throws: SocketAddressError.self) { try SocketAddress(parsing: text) }
    }

    @Test func resolvesLocalhost() throws {
        let address = try SocketAddress.resolve("localhost:8080")
        #expect(address.port == 8080)
        #expect(["127.0.0.1", "::1"].contains(address.ipAddress))
        #expect(try SocketAddress.resolve("[::1]:9") == SocketAddress(parsing: "[::1]:9"))
    }

    @Test func unknownHostsAreReportedByName() {
        #expect(throws: SocketAddressError.self) { try SocketAddress.resolve("no-such-host.invalid:80") }
    }

    @Test func roundTripsThroughTheKernelsSockaddr() throws {
        for text in ["10.1.2.3:4567", "[fe80::1]:80"] {
            let address = try SocketAddress(parsing: text)
            let back = try address.withSockAddr { pointer, _ in SocketAddress(UnsafeRawPointer(pointer)) }
            #expect(back == address)
        }
    }
}
