import EventIO
import Synchronization

/// Finds each loop's connection registry and flusher; both are created on first use, on their loop's thread.
final class RegistryDirectory: Sendable {
    private typealias Entry = (registry: ConnectionRegistry, flusher: LoopFlusher)
    private let entries = Mutex<[ObjectIdentifier: LoopBound<Entry>]>([:])

    /// The registry of `loop`; call on that loop's thread.
    func registry(for loop: EventLoop) -> ConnectionRegistry { entry(for: loop).registry }

    /// The flusher of `loop` (its before-sleep hook); call on that loop's thread.
    func flusher(for loop: EventLoop) -> LoopFlusher { entry(for: loop).flusher }

    private func entry(for loop: EventLoop) -> Entry {
        let key = ObjectIdentifier(loop)
        if let bound = entries.withLock({ $0[key] }) { return bound.value }
        let entry = (registry: ConnectionRegistry(), flusher: LoopFlusher(loop: loop))
        entries.withLock { $0[key] = LoopBound(entry, on: loop) }
        return entry
    }
}
