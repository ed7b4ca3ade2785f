// TCPListener: one listening socket, bound on the caller's thread, accepting on one loop, spreading connections
// over a group.
//
// Binding happens in `init`, so a port in use or a bad address is an error at start-up and port 0 reports the port
// the kernel picked. Accepting runs on `loop` (level-triggered, at most `acceptBurst` per readiness report so one
// busy listener cannot starve the loop's connections). Each accepted socket goes to the next loop of the group,
// round robin: directly when that is the listener's own loop, otherwise through that loop's `execute`, so the
// connection and its handler are created on the thread that will own them. If the target loop has already
// stopped, the socket is closed instead of leaking. With a `ConnectionLimiter`, a socket over a limit is closed
// right after accept(2) (see ConnectionLimiter).

internal import CLinux
import Glibc
import Synchronization

/// A listening TCP socket whose connections are spread over an `EventLoopGroup`.
public final class TCPListener: Sendable {
    /// Accepts taken from one readiness report before the loop moves on.
    static let acceptBurst = 256
    /// How long accepting pauses after EMFILE / ENFILE / ENOBUFS / ENOMEM, which would otherwise report the listener
    /// readable on every wait.
    static let resourceBackoff: Duration = .milliseconds(100)

    /// The bound address; with port 0 requested, it carries the port the kernel picked.
    public let localAddress: SocketAddress
    /// The loop that runs accept(2).
    public let loop: EventLoop
    /// The listening socket; owned by the acceptor once it is registered.
    let fd: Int32
    /// Where accepted connections go; nil keeps them on `loop`.
    let group: EventLoopGroup?
    /// Makes each accepted connection's handler, on the connection's own loop.
    let makeHandler: @Sendable () -> any ConnectionHandler
    /// Enforces the connection limits, when there are any.
    let limiter: ConnectionLimiter?
    /// Where accepted connections add what they read and write, when anywhere.
    let byteTotals: TransportByteTotals?
    private let isCloseRequested = Atomic<Bool>(false)

    /// Binds `address` (SO_REUSEADDR, non-blocking, close-on-exec), listens with `backlog` (the kernel caps it at
    /// net.core.somaxconn), and starts accepting on `loop`. Each accepted connection goes to `group.next()` (or stays
    /// on `loop` without a group) with a handler from `makeHandler`, which runs on the connection's loop. With a
    /// `limiter`, connections over its limits are closed as soon as they are accepted. With `byteTotals`, every
    /// accepted connection adds its read(2) and send(2) results there.
    public init(
        bindingTo address: SocketAddress, backlog: Int32 = 4096, on loop: EventLoop,
        distributingTo group: EventLoopGroup? = nil, limiter: ConnectionLimiter? = nil,
        byteTotals: TransportByteTotals? = nil,
        makeHandler: @escaping @Sendable () -> any ConnectionHandler
    ) throws(SystemError) {
        let fd = try Socket.makeStream(family: address.family)
        let bound: SocketAddress?
        do throws(SystemError) {
            try Socket.setOption(fd, level: SOL_SOCKET, name: SO_REUSEADDR, value: 1)
            try Socket.bind(fd, to: address)
            _ = try Syscall.run("listen") { listen(fd, backlog) }
            bound = try Socket.localAddress(fd)
        } catch {
            Syscall.close(fd)
            throw error
        }
        self.fd = fd
        self.localAddress = bound ?? address
        self.loop = loop
        self.group = group
        self.makeHandler = makeHandler
        self.limiter = limiter
        self.byteTotals = byteTotals
        let accepted = loop.execute { [self] in
            Acceptor.start(listener: self, core: loop.core.value)
        }
        guard accepted else {
            Syscall.close(fd)
            throw SystemError(call: "listen", errno: ECANCELED)
        }
    }

    /// Stops accepting and closes the listening socket; callable from any thread, idempotent. Connections already
    /// accepted are not affected.
    public func close() {
        guard !isCloseRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        loop.execute { [self] in loop.core.value.closeAcceptor(fd: fd) }
    }

    /// Hands one accepted socket (and its claim on the limiter) to its loop; runs on `loop`.
    func dispatch(acceptedSocket socket: Int32, admission: ConnectionAdmission?) {
        let target = group?.next() ?? loop
        if target === loop {
            target.adopt(socket: socket, handler: makeHandler(), admission: admission, byteTotals: byteTotals)
            return
        }
        let sent = target.execute { [self] in
            target.adopt(socket: socket, handler: makeHandler(), admission: admission, byteTotals: byteTotals)
        }
        if !sent {
            Syscall.close(socket)
            admission?.release()
        }
    }
}
