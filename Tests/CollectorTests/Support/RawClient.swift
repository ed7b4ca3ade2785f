import Foundation
import HTTP1

/// A blocking TCP client on 127.0.0.1 that counts every byte it sends and receives.
final class RawClient {
    struct Failure: Error, CustomStringConvertible { let description: String }

    private(set) var fd: Int32
    private(set) var bytesSent = 0
    private(set) var bytesReceived = 0
    private var buffered: [UInt8] = []
    private(set) var isClosedByPeer = false

    init(port: UInt16, timeoutSeconds: Int = 5) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket failed: errno \(errno)") }
        // Small writes (HEADERS, then DATA, then END_STREAM) must not wait for delayed ACKs.
        var noDelay: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else { throw Failure(description: "connect failed: errno \(errno)") }
    }

    deinit { close() }

    /// Closes once: a second close could hit a descriptor number another thread has reused.
    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            offset += n
            bytesSent += n
        }
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Reads what is available (blocking up to the timeout); empty at EOF or timeout.
    func receiveSome() -> [UInt8] {
        if !buffered.isEmpty {
            defer { buffered = [] }
            return buffered
        }
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else {
            if n == 0 { isClosedByPeer = true }
            return []
        }
        bytesReceived += n
        return Array(chunk[0..<n])
    }

    /// Gives bytes back to be read again.
    func unread(_ bytes: ArraySlice<UInt8>) { buffered = Array(bytes) + buffered }

    /// Reads one HTTP response (skipping none: a 100 Continue is returned as its own response).
    func readResponse(to method: String = "POST") throws -> (status: Int, headers: HTTPHeaders, body: [UInt8]) {
        var parser = HTTPResponseParser()
        parser.expectResponse(to: method)
        var head: HTTPResponseHead?
        while true {
            let input = receiveSome()
            if input.isEmpty {
                let step = parser.parseEndOfInput()
                if case .end(let end) = step.event, let head { return (head.status.code, head.headers, end.body) }
                throw Failure(description: "connection ended before a complete response")
            }
            var offset = 0
            while offset <= input.count {
                let step = parser.parse(input[offset...])
                offset += step.consumed
                switch step.event {
                case .needMoreData: break
                case .interim(let interim):
                    unread(input[offset...])
                    return (interim.status.code, interim.headers, [])
                case .head(let responseHead):
                    head = responseHead
                    continue
                case .body: continue
                case .end(let end):
                    unread(input[offset...])
                    return (head!.status.code, head!.headers, end.body)
                case .error(let error): throw Failure(description: "bad response: \(error)")
                case .closed: throw Failure(description: "closed")
                }
                break
            }
        }
    }

    /// True when the peer closes the connection within the timeout (after any remaining bytes).
    func waitForClose() -> Bool {
        while !isClosedByPeer {
            if receiveSome().isEmpty && !isClosedByPeer { return false }
        }
        return true
    }
}
