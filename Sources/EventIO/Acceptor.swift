// The loop-side half of a TCPListener: registered in epoll, runs accept4 until EAGAIN (or a burst limit).

internal import CLinux
import Glibc

/// Accepts on a listening socket for its `TCPListener`; lives on the listener's loop.
final class Acceptor: Selectable {
    private let listener: TCPListener
    private let core: LoopCore
    private var token = SelectorToken(slot: 0, generation: 0)
    private var isClosed = false
    private var isBackingOff = false

    private init(listener: TCPListener, core: LoopCore) {
        self.listener = listener
        self.core = core
    }

    /// Registers the listener's socket with the loop; the socket is closed if the loop is shutting down or epoll
    /// refuses it.
    static func start(listener: TCPListener, core: LoopCore) {
        guard !core.isShuttingDown else {
            Syscall.close(listener.fd)
            return
        }
        let acceptor = Acceptor(listener: listener, core: core)
        do {
            acceptor.token = try core.selector.register(fd: listener.fd, interest: .readable, object: acceptor)
        } catch {
            Syscall.close(listener.fd)
            return
        }
        core.add(acceptor, fd: listener.fd)
    }

    /// Accepts up to `acceptBurst` pending connections and hands each to its loop.
    func handle(_ events: IOEvents) {
        var attempts = 0
        while attempts < TCPListener.acceptBurst && !isClosed && !isBackingOff {
            attempts += 1
            let result: IOResult<(Int32, SocketAddress?)>
            do {
                result = try accept()
            } catch {
                if Self.isResourceExhaustion(error.errno) { backOff() }
                // Other errors (ECONNABORTED, a network error Linux reports on accept) concern one connection only.
                continue
            }
            guard case .done(let (socket, peer)) = result else { return }
            guard let limiter = listener.limiter else {
                listener.dispatch(acceptedSocket: socket, admission: nil)
                continue
            }
            if limiter.admit(peer) != nil {
                // Over a limit: closed before anything is allocated for it (the limiter counted the refusal).
                Syscall.close(socket)
                continue
            }
            let ip = peer?.ip ?? ConnectionLimiter.unknownPeer
            listener.dispatch(acceptedSocket: socket, admission: ConnectionAdmission(limiter: limiter, ip: ip))
        }
    }

    /// One accept4(2), with the peer's address (needed for the per-address limit, free at this point).
    private func accept() throws(SystemError) -> IOResult<(Int32, SocketAddress?)> {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let flags = Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let result = try withUnsafeMutablePointer(to: &storage) { (pointer) throws(SystemError) -> IOResult<Int32> in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { (address) throws(SystemError) in
                try Syscall.nonBlocking("accept4") { fw_accept4(listener.fd, address, &length, flags) }
            }
        }
        guard case .done(let socket) = result else { return .wouldBlock }
        let peer = withUnsafePointer(to: &storage) { SocketAddress(UnsafeRawPointer($0)) }
        return .done((socket, peer))
    }

    /// The loop is stopping: close the listening socket.
    func closeForLoopShutdown() { close() }

    /// Stops accepting and closes the listening socket.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        core.selector.deregister(fd: listener.fd, token: token)
        Syscall.close(listener.fd)
    }

    private static func isResourceExhaustion(_ code: Int32) -> Bool {
        code == EMFILE || code == ENFILE || code == ENOBUFS || code == ENOMEM
    }

    /// Out of descriptors or memory: the pending connection stays in the backlog and the listener stays readable,
    /// so stop watching it for a moment instead of spinning.
    private func backOff() {
        guard !isBackingOff else { return }
        isBackingOff = true
        try? core.selector.modify(fd: listener.fd, token: token, interest: [])
        _ = core.schedule(afterNanoseconds: TCPListener.resourceBackoff.clampedNanoseconds) { [self] in
            isBackingOff = false
            guard !isClosed else { return }
            try? core.selector.modify(fd: listener.fd, token: token, interest: .readable)
        }
    }
}
