// A blocking TLS client over a connected socket, for one-off calls outside an event loop (the simulator's
// health check and its reads of the collector's figures). OpenSSL reads and writes the descriptor itself here; the
// event-loop path (`TLSTransport`) is the one that counts bytes.

internal import COpenSSL

/// One TLS client connection on a connected, blocking socket; the caller still owns (and closes) the socket.
public final class TLSBlockingConnection {
    private let ssl: OpaquePointer

    /// Performs the handshake on `fd`, verifying `serverName` against `context`'s trusted certificates.
    public init(fd: Int32, context: TLSContext, serverName: String) throws(TLSError) {
        precondition(!context.isServer)
        guard let ssl = SSL_new(context.context) else { throw TLSError.openSSL("cannot create a TLS connection") }
        self.ssl = ssl
        configureClient(ssl, context: context, serverName: serverName)
        guard SSL_set_fd(ssl, fd) == 1, SSL_connect(ssl) == 1 else {
            throw TLSError.openSSL("TLS handshake with \(serverName) failed")
        }
    }

    deinit { SSL_free(ssl) }

    /// Sends all of `bytes`.
    public func send(_ bytes: [UInt8]) throws(TLSError) {
        let written = bytes.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
        guard written == Int32(bytes.count) else { throw TLSError.openSSL("TLS write failed") }
    }

    /// Reads up to `buffer.count` bytes into `buffer`; 0 at the end of the stream (close_notify or FIN).
    public func receive(into buffer: inout [UInt8]) throws(TLSError) -> Int {
        let count = buffer.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, Int32($0.count)) }
        if count > 0 { return Int(count) }
        let error = SSL_get_error(ssl, count)
        if error == SSL_ERROR_ZERO_RETURN || error == SSL_ERROR_SYSCALL { return 0 }
        throw TLSError.openSSL("TLS read failed")
    }
}
