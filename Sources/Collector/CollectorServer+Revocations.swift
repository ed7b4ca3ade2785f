// The running collector follows the deny list that `collector devices revoke|restore` edits from another
// process: it rereads `revoked_devices` every `revocationReloadMs` (1 s), off the event loops, so a revocation
// takes effect within 2 s. New calls and requests of a revoked device are refused at their head; an Upload stream
// already open is refused at its next message (the batches it already handed to the store still commit).

import Dispatch
import Storage
import Synchronization

extension CollectorServer {
    func scheduleRevocationReload() {
        let loop = group.loops[0]
        let interval = Duration.milliseconds(configuration.authentication.revocationReloadMs)
        let context = self.context
        let reload = ReloadInFlight()
        loop.execute { [self] in
            func tick() {
                guard !isStopped.withLock({ $0 }) else { return }
                if !reload.flag.exchange(true, ordering: .acquiringAndReleasing) {
                    DispatchQueue.global(qos: .utility).async {
                        defer { reload.flag.store(false, ordering: .releasing) }
                        do throws(StoreError) {
                            if let count = try context.authenticator.reloadRevocations(from: context.store) {
                                context.log.notice("deny list changed: \(count) devices revoked")
                            }
                        } catch .closed {
                            // Shutting down: the store closed under this reload.
                        } catch {
                            context.log.warning("could not reread the deny list (keeping the last one): \(error)")
                        }
                    }
                }
                loop.schedule(after: interval) { tick() }
            }
            loop.schedule(after: interval) { tick() }
        }
    }
}

/// Set while a reload runs, so a slow store never piles reloads up.
private final class ReloadInFlight: Sendable {
    let flag = Atomic(false)
}
