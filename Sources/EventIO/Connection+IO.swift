// Connection's I/O: readiness dispatch, the read path through the shared buffer, the write path, and performing
// the lifecycle's actions. Runs only on the loop thread.

internal import CLinux
import Glibc

extension Connection: Selectable {
    /// Level-triggered readiness. EPOLLERR and EPOLLHUP arrive even with an empty interest, so a hang-up while
    /// input is paused takes the descriptor out of epoll ("parked") until `resumeReading()`, instead of spinning.
    func handle(_ events: IOEvents) {
        if isClosed { return }
        if lifecycle.phase == .connecting {
            finishConnect()
            return
        }
        let trouble = !events.isDisjoint(with: [.hangUp, .error])
        if lifecycle.wantsInput && (events.contains(.readable) || trouble) {
            performRead()
            if isClosed { return }
        }
        if outboundByteCount > 0 && lifecycle.wantsWritable(hasBufferedOutput: true)
            && (events.contains(.writable) || trouble)
        {
            flushOutbound()
            if isClosed { return }
        }
        guard trouble else { return }
        if events.contains(.error) {
            let error = (try? Socket.pendingError(fd)) ?? 0
            if error != 0 {
                fail(SystemError(call: "SO_ERROR", errno: error))
                return
            }
        }
        if events.contains(.hangUp) && !lifecycle.wantsInput {
            if lifecycle.input == .paused {
                park()
            } else {
                apply(lifecycle.close(.peerClosed))
            }
        }
    }

    /// The loop is stopping: close now with `.loopStopped`.
    func closeForLoopShutdown() {
        apply(lifecycle.close(.loopStopped))
    }

    // MARK: Connect

    private func finishConnect() {
        let error: Int32
        do {
            error = try Socket.pendingError(fd)
        } catch {
            fail(error)
            return
        }
        apply(lifecycle.connectFinished(error: error))
    }

    // MARK: Reading

    /// One read(2) into the shared buffer, after the leftovers; level-triggered, so one per readiness report keeps
    /// the loop fair across connections.
    private func performRead() {
        let buffer = core.readBuffer
        let carried = unconsumed.count
        guard carried < buffer.count else {
            apply(lifecycle.close(.unconsumedInputLimit))
            return
        }
        stageUnconsumed()
        let result: IOResult<Int>
        do {
            result = try Syscall.nonBlocking("read") { read(fd, buffer.baseAddress! + carried, buffer.count - carried) }
        } catch {
            fail(error)
            return
        }
        guard case .done(let count) = result else { return }
        guard count > 0 else {
            apply(lifecycle.inputEnded())
            updateInterest()
            return
        }
        bytesRead &+= UInt64(count)
        byteTotals?.didRead(count)
        lastActivity = core.now
        handler?.connection(self, didRead: count)
        guard lifecycle.deliversInput else {
            if !unconsumed.isEmpty { unconsumed = [] }
            return
        }
        needsRedelivery = false
        deliver(UnsafeRawBufferPointer(rebasing: buffer[..<(carried + count)]))
    }

    /// Offers `input` to the handler and keeps what it did not consume.
    private func deliver(_ input: UnsafeRawBufferPointer) {
        guard let handler else { return }
        let consumed = handler.connection(self, didReceive: input)
        precondition(consumed >= 0 && consumed <= input.count, "handler consumed \(consumed) of \(input.count) bytes")
        guard !isClosed else { return }
        if consumed == input.count {
            if !unconsumed.isEmpty { unconsumed = [] }
        } else {
            unconsumed = Array(UnsafeRawBufferPointer(rebasing: input[consumed...]))
        }
    }

    /// Offers the leftovers again after `resumeReading()` (a timer with zero delay, so never from inside a handler
    /// call), unless a read already did.
    func redeliverUnconsumed() {
        guard needsRedelivery else { return }
        needsRedelivery = false
        guard lifecycle.input == .delivering, lifecycle.phase == .open, !unconsumed.isEmpty else { return }
        let count = unconsumed.count
        stageUnconsumed()
        deliver(UnsafeRawBufferPointer(rebasing: core.readBuffer[..<count]))
    }

    /// Copies the leftovers to the start of the shared read buffer, where new input is appended to them.
    private func stageUnconsumed() {
        guard !unconsumed.isEmpty else { return }
        let buffer = core.readBuffer
        unconsumed.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
    }

    // MARK: Writing

    /// The fast path of `write` with nothing buffered: one send(2) straight from the caller's bytes; only the rest
    /// is copied. The handler hears `didWrite` after the buffer is consistent, so it may write again from there.
    func sendDirectly(_ bytes: UnsafeRawBufferPointer) {
        let sent: Int
        do {
            let result = try Syscall.nonBlocking("send") {
                send(fd, bytes.baseAddress!, bytes.count, Int32(MSG_NOSIGNAL))
            }
            if case .done(let count) = result { sent = count } else { sent = 0 }
        } catch {
            fail(error)
            return
        }
        if sent < bytes.count {
            outbound.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[sent...]))
            updateInterest()
        }
        if sent > 0 { account(written: sent) }
    }

    /// Sends from `outbound` (EPOLLOUT, or an explicit flush). When it empties, the buffer is released and the
    /// lifecycle decides what the drain means (tell the handler, or continue a shutdown).
    func flushOutbound() {
        let pending = outboundByteCount
        let outcome = outbound.withUnsafeBytes { all in
            Result { () throws(SystemError) in
                try Syscall.nonBlocking("send") {
                    send(fd, all.baseAddress! + outboundStart, pending, Int32(MSG_NOSIGNAL))
                }
            }
        }
        let result: IOResult<Int>
        switch outcome {
        case .success(let value): result = value
        case .failure(let error):
            fail(error)
            return
        }
        guard case .done(let sent) = result else {
            updateInterest()
            return
        }
        if sent == pending {
            outbound = []
            outboundStart = 0
        } else {
            outboundStart += sent
            if outboundStart >= outbound.count / 2 {
                outbound.removeFirst(outboundStart)
                outboundStart = 0
            }
        }
        updateInterest()
        if sent > 0 { account(written: sent) }
        if !isClosed && outboundByteCount == 0 {
            apply(lifecycle.outputDrained())
        }
    }

    private func account(written count: Int) {
        bytesWritten &+= UInt64(count)
        byteTotals?.didWrite(count)
        lastActivity = core.now
        lastWriteProgress = core.now
        handler?.connection(self, didWrite: count)
    }

    // MARK: Readiness

    /// Tells epoll what the connection waits for now, with an epoll_ctl only when that changed.
    func updateInterest() {
        guard !isClosed, !isParked else { return }
        var wanted: IOInterest = []
        if lifecycle.wantsInput { wanted.insert(.readable) }
        if lifecycle.wantsWritable(hasBufferedOutput: outboundByteCount > 0) { wanted.insert(.writable) }
        if wanted.contains(.writable) && !interest.contains(.writable) { outputStartedWaiting() }
        guard wanted != interest else { return }
        do {
            try core.selector.modify(fd: fd, token: token, interest: wanted)
            interest = wanted
        } catch {
            fail(error)
        }
    }

    /// Takes the descriptor out of epoll while it hangs up with input paused; see `handle`.
    private func park() {
        core.selector.suspend(fd: fd)
        isParked = true
    }

    /// Puts a parked descriptor back into epoll (reading resumes, or a lingering close needs its EOF).
    func unpark() {
        isParked = false
        do {
            try core.selector.resume(fd: fd, token: token, interest: interest)
        } catch {
            fail(error)
        }
    }

    // MARK: Lifecycle actions

    /// Performs what the lifecycle decided.
    func apply(_ action: ConnectionLifecycle.Action) {
        switch action {
        case .none:
            // The state may still have changed what the socket waits for (a lingering close starts reading).
            updateInterest()
        case .notifyOpened:
            updateInterest()
            if outboundByteCount > 0 { flushOutbound() }
            if !isClosed { handler?.connectionDidOpen(self) }
        case .notifyInputEnded:
            updateInterest()
            handler?.connectionInputDidEnd(self)
        case .notifyDrained:
            handler?.connectionDidDrain(self)
        case .shutdownOutput:
            sendFIN()
            updateInterest()
        case .linger(let shutdownOutputFirst):
            if shutdownOutputFirst { sendFIN() }
            guard !isClosed else { return }
            let delay = UInt64(lingerMilliseconds) * 1_000_000
            lingerTimer = core.schedule(afterNanoseconds: delay) { [self] in
                lingerTimer = nil
                apply(lifecycle.lingerTimedOut())
            }
            updateInterest()
        case .close(let reason):
            finishClose(reason)
        }
    }

    private func sendFIN() {
        do {
            try Socket.shutdownOutput(fd)
        } catch {
            fail(error)
        }
    }

    /// A syscall failed: the connection is over.
    func fail(_ error: SystemError) {
        let reason: CloseReason = lifecycle.phase == .connecting ? .connectFailed(error) : .failed(error)
        apply(lifecycle.close(reason))
    }

    /// Releases everything and tells the handler; the lifecycle has already moved to `closed`.
    func finishClose(_ reason: CloseReason) {
        if let lingerTimer { core.cancel(lingerTimer) }
        if let idleTimer { core.cancel(idleTimer) }
        if let writeTimer { core.cancel(writeTimer) }
        lingerTimer = nil
        idleTimer = nil
        writeTimer = nil
        core.selector.deregister(fd: fd, token: token)
        finalSegmentCounts = Socket.segmentCounts(fd)
        Syscall.close(fd)
        core.connectionCount -= 1
        admission?.release()
        admission = nil
        unconsumed = []
        outbound = []
        outboundStart = 0
        let handler = self.handler
        self.handler = nil
        handler?.connection(self, didCloseWith: reason)
    }

    // MARK: Idle timeout

    /// Arms the idle timer for `deadline`; when it fires it re-arms itself if there was activity meanwhile.
    func armIdleTimer(at deadline: UInt64) {
        idleTimer = core.schedule(at: deadline) { [self] in
            idleTimer = nil
            let deadline = lastActivity &+ idleNanoseconds
            if core.now < deadline {
                armIdleTimer(at: deadline)
                return
            }
            handler?.connectionIdleTimeoutExpired(self)
            // Still open and still watched (the handler kept it, perhaps after sending a ping): watch the next period.
            if !isClosed && idleTimer == nil && idleNanoseconds > 0 {
                armIdleTimer(at: max(lastActivity, core.now) &+ idleNanoseconds)
            }
        }
    }
}
