// Starting and joining the threads that run loops: plain pthreads, so no Foundation on the hot path.

internal import CLinux
import Glibc

/// Spawns and joins loop threads.
enum LoopThread {
    /// The closure a new thread runs, passed through pthread_create's context pointer.
    private final class Start {
        let name: String
        let body: @Sendable () -> Void
        /// Keeps the thread's name and body until the thread starts.
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    /// Starts a thread named `name` (at most 15 bytes are kept, a Linux limit) that runs `body`.
    static func spawn(name: String, _ body: @escaping @Sendable () -> Void) throws(SystemError) -> pthread_t {
        let context = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        do throws(SystemError) {
            try Syscall.pthread("pthread_create") {
                pthread_create(
                    &thread, nil,
                    { context in
                        let start = Unmanaged<Start>.fromOpaque(context!).takeRetainedValue()
                        _ = fw_set_thread_name(String(decoding: start.name.utf8.prefix(15), as: UTF8.self))
                        start.body()
                        return nil
                    }, context)
            }
        } catch {
            Unmanaged<Start>.fromOpaque(context).release()
            throw error
        }
        return thread
    }

    /// Waits for `thread` to finish.
    static func join(_ thread: pthread_t) {
        _ = pthread_join(thread, nil)
    }
}
