// Making connections on a loop: outbound connects and adopting accepted sockets.

import Glibc

extension EventLoop {
    /// Opens an outbound TCP connection to `address`, optionally from a `source` IP (port 0: any port), for a
    /// simulator that needs more than one source IP's ~28k ephemeral ports. Loop thread only.
    ///
    /// The connect is non-blocking: the returned connection is `isConnecting`, accepts writes (buffered until
    /// connected), and later reports either `connectionDidOpen` or `didCloseWith: .connectFailed(error)`
    /// (ECONNREFUSED, ETIMEDOUT ...), never both, and never from inside this call. Throws only when no socket could
    /// be set up (EMFILE, a source address that cannot be bound, the loop shutting down).
    public func connect(
        to address: SocketAddress, from source: SocketAddress? = nil, handler: any ConnectionHandler
    ) throws(SystemError) -> Connection {
        let core = self.core.value
        guard !core.isShuttingDown else { throw SystemError(call: "connect", errno: ECANCELED) }
        let fd = try Socket.makeStream(family: address.family)
        var immediateError: SystemError?
        do throws(SystemError) {
            if let source { try Socket.bindSource(fd, to: source) }
            try Socket.setNoDelay(fd)
            _ = try address.withSockAddr { (pointer, length) throws(SystemError) in
                try Syscall.connect(fd, pointer, length)
            }
        } catch  where error.call == "connect" {
            immediateError = error
        } catch {
            Syscall.close(fd)
            throw error
        }
        let connection = Connection(loop: self, core: core, fd: fd, connecting: true, handler: handler)
        try register(connection, interest: immediateError == nil ? .writable : [])
        if let immediateError {
            // Report it like a later failure: from the loop, not from inside this call.
            let action = connection.lifecycle.connectFinished(error: immediateError.errno)
            _ = core.schedule(afterNanoseconds: 0) { connection.apply(action) }
        }
        return connection
    }

    /// Takes over an accepted (or otherwise connected) non-blocking socket and opens a connection on it for
    /// `handler`; closes the descriptor instead when the loop is shutting down or epoll refuses it. The connection
    /// gives `admission` back when it closes (or right away when it never opens).
    @discardableResult
    func adopt(
        socket fd: Int32, handler: any ConnectionHandler, admission: ConnectionAdmission? = nil,
        byteTotals: TransportByteTotals? = nil
    ) -> Connection? {
        let core = self.core.value
        guard !core.isShuttingDown else {
            Syscall.close(fd)
            admission?.release()
            return nil
        }
        // Best effort: a peer that already reset the connection makes this fail, and the first read will tell.
        try? Socket.setNoDelay(fd)
        let connection = Connection(loop: self, core: core, fd: fd, connecting: false, handler: handler)
        do {
            try register(connection, interest: .readable)
        } catch {
            admission?.release()
            return nil  // register closed the descriptor
        }
        connection.admission = admission
        connection.byteTotals = byteTotals
        handler.connectionDidOpen(connection)
        return connection
    }

    /// Adds the connection to epoll; on failure closes its descriptor and throws.
    private func register(_ connection: Connection, interest: IOInterest) throws(SystemError) {
        let core = connection.core
        do {
            connection.token = try core.selector.register(fd: connection.fd, interest: interest, object: connection)
        } catch {
            Syscall.close(connection.fd)
            throw error
        }
        connection.interest = interest
        core.connectionCount += 1
    }
}
