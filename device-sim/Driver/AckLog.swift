// `device-sim run --acked-log FILE`: one line per acknowledged batch, appended as the acknowledgements arrive (one
// write(2) per acknowledgement, O_APPEND), so the file is complete up to the last Ack even if the simulator dies.
// The line format is `AcknowledgedBatch.line`.

import Simulation
import Synchronization
internal import Glibc

/// The append-only acknowledgement log, shared by every loop of a run.
public final class AckLog: Sendable {
    private let fd: Int32
    private let failure = Mutex<String?>(nil)

    /// Creates or truncates `path`.
    public init(path: String) throws(RunError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw RunError(description: "cannot open the acknowledgement log \(path): \(reason)")
        }
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Appends the lines of `batches` in one write.
    func append(_ batches: [AcknowledgedBatch]) {
        guard !batches.isEmpty else { return }
        var text = batches.map(\.line).joined()
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    let reason = String(cString: strerror(errno))
                    failure.withLock { $0 = $0 ?? "cannot write the acknowledgement log: \(reason)" }
                    return
                }
            }
        }
    }

    /// Why a write failed, if one did (the run goes on; the caller reports it at the end).
    public var writeFailure: String? { failure.withLock { $0 } }
}
