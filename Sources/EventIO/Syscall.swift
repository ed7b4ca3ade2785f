// The syscall funnel: every system call EventIO makes goes through one of these helpers.
//
// Rules, in one place so no call site reinvents them:
// - EINTR is retried, except for `close` (Linux releases the descriptor even when close reports EINTR, so a retry
//   could close a descriptor another thread just received) and `connect` (an interrupted connect keeps going in the
//   background; retrying it would report EALREADY).
// - EAGAIN / EWOULDBLOCK become `.wouldBlock` in the non-blocking helpers, and EINPROGRESS does for `connect`.
// - Anything else throws `SystemError` carrying the call's name and errno.

import Glibc

/// The outcome of a non-blocking call: it did its work, or the kernel had nothing for it right now.
enum IOResult<Value> {
    /// The call succeeded with this result.
    case done(Value)
    /// EAGAIN / EWOULDBLOCK (or EINPROGRESS for connect): try again when epoll says so.
    case wouldBlock
}

/// Namespace for the funnel helpers.
enum Syscall {
    /// Runs a call that returns -1 and sets errno on failure, retrying on EINTR.
    @inline(__always)
    static func run<Result: FixedWidthInteger>(
        _ name: StaticString, _ body: () -> Result
    ) throws(SystemError) -> Result {
        while true {
            let result = body()
            if result != -1 { return result }
            let code = errno
            if code == EINTR { continue }
            throw SystemError(call: "\(name)", errno: code)
        }
    }

    /// Runs a call on a non-blocking descriptor: EAGAIN / EWOULDBLOCK become `.wouldBlock`, EINTR is retried.
    @inline(__always)
    static func nonBlocking<Result: FixedWidthInteger>(
        _ name: StaticString, _ body: () -> Result
    ) throws(SystemError) -> IOResult<Result> {
        while true {
            let result = body()
            if result != -1 { return .done(result) }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: throw SystemError(call: "\(name)", errno: code)
            }
        }
    }

    /// Starts a non-blocking connect: `.done` when it completed at once, `.wouldBlock` while it is in progress
    /// (EINPROGRESS, or EINTR, which leaves the connect running in the background).
    static func connect(
        _ fd: Int32, _ address: UnsafePointer<sockaddr>, _ length: socklen_t
    ) throws(SystemError) -> IOResult<Void> {
        if Glibc.connect(fd, address, length) == 0 { return .done(()) }
        let code = errno
        switch code {
        case EINPROGRESS, EINTR, EAGAIN: return .wouldBlock
        default: throw SystemError(call: "connect", errno: code)
        }
    }

    /// Runs a pthread call, which returns its error number instead of setting errno.
    static func pthread(_ name: StaticString, _ body: () -> Int32) throws(SystemError) {
        let code = body()
        if code != 0 { throw SystemError(call: "\(name)", errno: code) }
    }

    /// Closes a descriptor exactly once. EINTR is not retried (see the rules above); EIO and the like are dropped
    /// because the descriptor is gone either way and the caller has nothing left to undo. EBADF means this process
    /// closed the descriptor twice, which could have closed someone else's, so it stops the process.
    static func close(_ fd: Int32) {
        if Glibc.close(fd) == -1 && errno == EBADF {
            preconditionFailure("close(\(fd)): EBADF, a descriptor was closed twice")
        }
    }
}
