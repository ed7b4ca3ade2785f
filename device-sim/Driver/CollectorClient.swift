// Reads the collector's bandwidth figures for the report's cross-check: a plain blocking HTTP/1.1 GET, over TLS
// when given a client context (so it works against a collector that refuses plaintext).

import EventIO
import Foundation
import HTTP1
import Simulation
import TLS
import Telemetry

/// Blocking GETs against the collector's REST API.
public enum CollectorClient {
    /// `GET path` (with `Authorization: authorization` when given) and the body; throws with a message naming the
    /// problem (never the authorization).
    public static func get(
        _ target: String, _ path: String, authorization: String? = nil, timeoutSeconds: Int = 10,
        tls: TLSContext? = nil
    ) throws -> [UInt8] {
        let fd = try connect(target, timeoutSeconds: timeoutSeconds)
        defer { close(fd) }
        var headers = HTTPHeaders()
        if let authorization { headers.append(name: "Authorization", value: authorization) }
        let request = HTTPRequestSerializer.makeRequest(method: "GET", target: path, host: target, headers: headers,
                                                        body: [], isClosing: true)
        let secure = try tls.map { context in
            do {
                return try TLSBlockingConnection(fd: fd, context: context, serverName: hostName(of: target))
            } catch {
                throw RunError(description: "cannot connect to \(target) over TLS: \(error)")
            }
        }
        if let secure {
            do { try secure.send(request) } catch { throw RunError(description: "cannot send to \(target): \(error)") }
        } else {
            guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count
            else { throw RunError(description: "cannot send to \(target)") }
        }
        var limits = HTTPLimits.standard
        limits.maxBodyBytes = 512 << 20  // the per-device bandwidth list of a large fleet runs to megabytes
        var parser = HTTPResponseParser(limits: limits)
        parser.expectResponse(to: "GET")
        var status = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = try secure.map { try $0.receive(into: &buffer) }
                ?? buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 {
                if case .end(let end) = parser.parseEndOfInput().event, status == 200 { return end.body }
                throw RunError(description: "GET \(path): connection ended early (status \(status))")
            }
            var offset = 0
            while offset < n {
                let step = parser.parse(buffer[offset..<n])
                offset += step.consumed
                switch step.event {
                case .head(let head): status = head.status.code
                case .end(let end):
                    if status == 401 || status == 403 {
                        throw RunError(description: "GET \(path): HTTP \(status): the collector wants the admin token "
                                           + "(--admin-token-file)")
                    }
                    if status == 426 {
                        throw RunError(description: "GET \(path): HTTP 426: the collector refuses plaintext "
                                           + "(--plaintext deny); use an https:// --target or --tls")
                    }
                    guard status == 200 else { throw RunError(description: "GET \(path): HTTP \(status)") }
                    return end.body
                case .error(let error): throw RunError(description: "GET \(path): \(error.message)")
                case .needMoreData: offset = n
                default: break
                }
            }
        }
    }

    /// A blocking TCP socket connected to `target` (`host:port`), with `timeoutSeconds` as its send and receive
    /// timeouts; the caller closes it.
    static func connect(_ target: String, timeoutSeconds: Int) throws -> Int32 {
        let address = try SocketAddress.resolve(target)
        let fd = socket(address.isIPv6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RunError(description: "socket: errno \(errno)") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected: Int32
        if address.isIPv6 {
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            socketAddress.sin6_port = address.port.bigEndian
            inet_pton(AF_INET6, address.ipAddress, &socketAddress.sin6_addr)
            connected = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = address.port.bigEndian
            inet_pton(AF_INET, address.ipAddress, &socketAddress.sin_addr)
            connected = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw RunError(description: "cannot connect to \(target): \(reason)")
        }
        return fd
    }

    /// The host part of `host:port` (brackets of an IPv6 literal removed): the name the certificate must carry.
    static func hostName(of target: String) -> String {
        var host = target
        if let colon = host.lastIndex(of: ":") { host = String(host[..<colon]) }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host
    }

    /// The highest seq the collector stored for any device whose id starts with `prefix` (0 when none).
    public static func highestSeq(
        _ target: String, prefix: String, authorization: String? = nil, tls: TLSContext? = nil
    ) throws -> UInt64 {
        var highest: UInt64 = 0
        var cursor: String?
        repeat {
            var path = "/v1/devices?limit=1000&prefix=\(prefix)"
            if let cursor { path += "&cursor=\(cursor)" }
            let page = try JSONValue.parse(try get(target, path, authorization: authorization, tls: tls))
            for device in page["devices"]?.arrayValue ?? [] {
                highest = max(highest, device["last_seq"]?.uint64Value ?? 0)
            }
            cursor = page["next_cursor"]?.stringValue
        } while cursor != nil
        return highest
    }

    /// The collector's per-protocol and per-device bandwidth figures.
    public static func figures(_ target: String, authorization: String? = nil, tls: TLSContext? = nil) throws
        -> CollectorFigures
    {
        let bandwidth = try get(target, "/v1/bandwidth", authorization: authorization, tls: tls)
        let devices = try get(target, "/v1/bandwidth/devices", authorization: authorization, tls: tls)
        do {
            return try CollectorFigures(bandwidthJSON: bandwidth, devicesJSON: devices)
        } catch {
            throw RunError(description: "unreadable bandwidth figures: \(error)")
        }
    }
}
