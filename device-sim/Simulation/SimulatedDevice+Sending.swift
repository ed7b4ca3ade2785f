// After every event: catch up with simulated time, then do the next thing the connection and the call allow, then
// ask for the next wake-up. The rules are in SimulatedDevice.swift; this file implements them.

import Telemetry

extension SimulatedDevice {
    /// Moves the device forward at real time `now`, appending what the driver must do.
    mutating func advance(at now: UInt64, into actions: inout [DeviceAction]) {
        if stoppedBy != nil {
            // Refused for authentication: every further call would be refused too.
            if connection != .disconnected { actions.append(.disconnect) }
            connection = .disconnected
            lifecycle = .finished
            actions.append(.finished)
            return
        }
        produceDueBatches(at: now)
        if let retryAt = retryAtNs, now >= retryAt { retryAtNs = nil }
        if retryAtNs == nil {
            switch connection {
            case .disconnected:
                if queue.hasWaiting || (settings.clock.isMaxRate && !isProductionOver) {
                    connection = .connecting
                    actions.append(.connect)
                }
            case .connecting:
                break
            case .connected:
                send(into: &actions)
            }
        }
        if isProductionOver && queue.isEmpty && call == .idle {
            if connection != .disconnected { actions.append(.disconnect) }
            connection = .disconnected
            lifecycle = .finished
            actions.append(.finished)
            return
        }
        scheduleWake(into: &actions)
    }

    /// Starts or continues a call with the waiting batches, as the protocol does it.
    private mutating func send(into actions: inout [DeviceAction]) {
        if call == .idle {
            produceOnDemand()
            guard queue.hasWaiting else { return }
            statistics.calls += 1
            switch deviceProtocol {
            case .grpcStream:
                actions.append(.openUploadStream)
                call = .streaming(sent: 0)
            case .grpcSync:
                actions.append(.openSyncStream)
                call = .streaming(sent: 0)
            case .grpcUnary, .grpcWeb, .grpcWebText, .connect:
                actions.append(.push(takeNextBatch().makeBatch(sensors: settings.sensors, intervalMs: interval)))
                call = .awaitingAnswer
                return
            case .rest:
                actions.append(.post(takeNextBatch().makeReadingBatch(sensors: settings.sensors, intervalMs: interval)))
                call = .awaitingAnswer
                return
            }
        }
        guard case .streaming(var sent) = call else { return }
        while sent < settings.batchesPerStream {
            produceOnDemand()
            guard queue.hasWaiting else { break }
            actions.append(.sendOnStream(takeNextBatch().makeBatch(sensors: settings.sensors, intervalMs: interval)))
            sent += 1
        }
        call = .streaming(sent: sent)
        guard sent == settings.batchesPerStream || (isProductionOver && !queue.hasWaiting) else { return }
        if deviceProtocol == .grpcSync {
            actions.append(.halfCloseSyncStream)
            call = .awaitingAnswer
        } else if let seqs = queue.inFlightSeqs {
            actions.append(.halfCloseStream(covering: seqs))
            call = .awaitingAnswer
        }
    }

    /// Simulated ms between readings.
    private var interval: Int64 { settings.intervalMs }

    /// Puts the oldest waiting batch on the call and counts the transmission.
    private mutating func takeNextBatch() -> PendingBatch {
        let batch = queue.sendNext()!
        statistics.batchesSent += 1
        statistics.readingsSent += Int64(batch.readingCount)
        if batch.transmissions > 1 { statistics.batchesRetried += 1 }
        return batch
    }

    /// Asks for a wake at the earliest of the end of the backoff and the next batch's closing time, if that is not
    /// already asked for.
    private mutating func scheduleWake(into actions: inout [DeviceAction]) {
        var wake = retryAtNs
        if !settings.clock.isMaxRate, let close = nextCloseMs {
            let closeNs = settings.clock.realNs(atSimulated: close)
            wake = min(wake ?? closeNs, closeNs)
        }
        guard let wake, wake != wakeNs else { return }
        wakeNs = wake
        actions.append(.scheduleWake(atNs: wake))
    }
}
