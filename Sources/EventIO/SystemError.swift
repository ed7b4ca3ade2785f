// The one error type for failed system calls: which call failed and the errno it left.

import Glibc

/// A failed system call: the call's name and its errno, so the edge (logs, close reasons, the simulator's backoff)
/// can tell ECONNREFUSED from EMFILE without parsing text.
public struct SystemError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The system call that failed, for example `"connect"` or `"epoll_ctl"`.
    public let call: String
    /// The errno the call left behind.
    public let errno: Int32

    /// Makes an error for `call` that failed with `errno`.
    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// `"connect: Connection refused (errno 111)"`: strerror's text plus the number, for logs.
    public var description: String {
        "\(call): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
