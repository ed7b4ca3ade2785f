// EventLoopGroup: N loops, each running on its own thread, handed out round robin.

import Glibc
import Synchronization

/// A fixed set of event loops, one thread each: the collector spreads its connections over them, the simulator its
/// devices. N defaults to the number of online cores.
public final class EventLoopGroup: Sendable {
    /// The loops, each already running on its own thread.
    public let loops: [EventLoop]
    private let cursor = Atomic<Int>(0)
    private let threads: Mutex<[pthread_t]>

    /// The default loop count: the number of online cores.
    public static var defaultLoopCount: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// Creates `loopCount` loops and starts a thread (`<name>-<index>`) running each.
    public init(loopCount: Int = EventLoopGroup.defaultLoopCount, name: String = "fw-loop") throws(SystemError) {
        precondition(loopCount > 0, "an EventLoopGroup needs at least one loop")
        var loops: [EventLoop] = []
        var started: [pthread_t] = []
        do throws(SystemError) {
            for index in 0..<loopCount {
                let loop = try EventLoop()
                loops.append(loop)
                started.append(try LoopThread.spawn(name: "\(name)-\(index)") { loop.run() })
            }
        } catch {
            for loop in loops { loop.stop() }
            for thread in started { LoopThread.join(thread) }
            throw error
        }
        self.loops = loops
        self.threads = Mutex(started)
    }

    deinit {
        // Not joined here: the last reference may be dropped on one of the group's own threads.
        for loop in loops { loop.stop() }
    }

    /// The next loop, round robin; callable from any thread.
    public func next() -> EventLoop {
        let index = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return loops[Int(UInt(bitPattern: index) % UInt(loops.count))]
    }

    /// Stops every loop and waits for its thread to finish; each loop closes its connections, listeners, epoll and
    /// eventfd on the way out. Idempotent; must not be called from one of the group's own loops (it would wait for
    /// itself).
    public func shutdownGracefully() {
        precondition(!loops.contains { $0.inEventLoop }, "shutdownGracefully() called on one of the group's loops")
        for loop in loops { loop.stop() }
        let threads = self.threads.withLock { threads in
            let taken = threads
            threads = []
            return taken
        }
        for thread in threads { LoopThread.join(thread) }
    }
}
