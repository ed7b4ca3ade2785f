import EventIO
import Synchronization

/// Finds each loop's connection registry; a registry is created on first use, on its loop's thread.
final class RegistryDirectory: Sendable {
    private let registries = Mutex<[ObjectIdentifier: LoopBound<ConnectionRegistry>]>([:])

    /// The registry of `loop`; call on that loop's thread.
    func registry(for loop: EventLoop) -> ConnectionRegistry {
        let key = ObjectIdentifier(loop)
        if let bound = registries.withLock({ $0[key] }) { return bound.value }
        let registry = ConnectionRegistry()
        registries.withLock { $0[key] = LoopBound(registry, on: loop) }
        return registry
    }
}
