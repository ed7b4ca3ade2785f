// Process limits a 10k-connection process needs raised.

import Glibc

/// Process resource limits.
public enum ResourceLimits {
    /// Raises the soft RLIMIT_NOFILE to the hard limit (the soft limit is often 1024, far below 10k sockets) and
    /// returns the new soft limit. An unlimited hard limit is capped at fs.nr_open, the most the kernel accepts.
    @discardableResult
    public static func raiseOpenFileLimit() throws(SystemError) -> Int {
        var limit = rlimit()
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        _ = try Syscall.run("getrlimit") { getrlimit(resource, &limit) }
        var target = limit.rlim_max
        // RLIM_INFINITY is all ones; Swift cannot import the macro.
        if target == rlim_t.max { target = rlim_t(kernelOpenFileMaximum()) }
        if limit.rlim_cur < target {
            limit.rlim_cur = target
            _ = try Syscall.run("setrlimit") { setrlimit(resource, &limit) }
        }
        return Int(clamping: limit.rlim_cur)
    }

    /// /proc/sys/fs/nr_open, or its usual default when unreadable.
    private static func kernelOpenFileMaximum() -> Int {
        let fallback = 1_048_576
        guard let fd = try? Syscall.run("open", { open("/proc/sys/fs/nr_open", O_RDONLY | O_CLOEXEC) }) else {
            return fallback
        }
        defer { Syscall.close(fd) }
        var bytes = [UInt8](repeating: 0, count: 32)
        let count = (try? Syscall.run("read") { read(fd, &bytes, bytes.count) }) ?? 0
        let text = String(decoding: bytes.prefix(count), as: UTF8.self)
        return Int(text.trimmingPrefix(" ").prefix { $0.isNumber }) ?? fallback
    }
}
