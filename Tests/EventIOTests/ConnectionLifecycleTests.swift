// The connection state machine without sockets: each scenario is a list of events and the actions they must yield.

import Testing

@testable import EventIO

@Suite struct ConnectionLifecycleTests {
    private typealias Action = ConnectionLifecycle.Action

    @Test func outboundConnectSucceedsOrFailsOnce() {
        var success = ConnectionLifecycle(connecting: true)
        #expect(success.wantsWritable(hasBufferedOutput: false), "EPOLLOUT tells when the connect finished")
        #expect(success.acceptsWrites, "writes are buffered while connecting")
        #expect(!success.wantsInput)
        #expect(success.connectFinished(error: 0) == .notifyOpened)
        #expect(success.wantsInput)
        #expect(success.connectFinished(error: 0) == .none)

        var refused = ConnectionLifecycle(connecting: true)
        let error = SystemError(call: "connect", errno: 111)
        #expect(refused.connectFinished(error: 111) == .close(.connectFailed(error)))
        #expect(refused.isClosed)
        #expect(refused.closeRequested() == .none, "closed is terminal")
    }

    @Test func peerEOFThenDefaultLingeringCloseIsPeerClosed() {
        var lifecycle = ConnectionLifecycle(connecting: false)
        #expect(lifecycle.inputEnded() == .notifyInputEnded)
        #expect(!lifecycle.wantsInput)
        #expect(lifecycle.lingeringCloseRequested(hasBufferedOutput: false) == .close(.peerClosed))
    }

    @Test func peerEOFWithBufferedOutputClosesAfterTheDrain() {
        var lifecycle = ConnectionLifecycle(connecting: false)
        #expect(lifecycle.inputEnded() == .notifyInputEnded)
        #expect(lifecycle.lingeringCloseRequested(hasBufferedOutput: true) == .none)
        #expect(!lifecycle.acceptsWrites)
        #expect(lifecycle.wantsWritable(hasBufferedOutput: true))
        #expect(lifecycle.outputDrained() == .close(.peerClosed))
    }

    @Test func lingeringCloseDrainsThenShutsDownThenDiscardsUntilEOF() {
        var lifecycle = ConnectionLifecycle(connecting: false)
        #expect(lifecycle.lingeringCloseRequested(hasBufferedOutput: true) == .none)
        #expect(lifecycle.wantsInput, "keeps reading so unread input cannot turn the close into an RST")
        #expect(!lifecycle.deliversInput, "but the handler no longer sees it")
        #expect(lifecycle.outputDrained() == .linger(shutdownOutputFirst: true))
        #expect(!lifecycle.wantsWritable(hasBufferedOutput: false))
        #expect(lifecycle.inputEnded() == .close(.local))
    }

    @Test func lingeringCloseTimesOut() {
        var lifecycle = ConnectionLifecycle(connecting: false)
        #expect(lifecycle.lingeringCloseRequested(hasBufferedOutput: false) == .linger(shutdownOutputFirst: true))
        #expect(lifecycle.lingerTimedOut() == .close(.local))
        #expect(lifecycle.lingerTimedOut() == .none)
    }

    @Test func eofDuringTheDrainOfALingeringCloseClosesAtTheDrain() {
        var lifecycle = ConnectionLifecycle(connecting: false)
        #expect(lifecycle.lingeringCloseRequested(hasBufferedOutput: true) == .none)
        #expect(lifecycle.inputEnded() == .none)
        #expect(lifecycle.outputDrained() == .close(.local))
    }

    @Test func halfCloseThenPeerEOF() {
        var lifecycle = ConnectionLifecycle(connecting: false)
        #expect(lifecycle.shutdownOutputRequested(hasBufferedOutput: true) == .none)
        #expect(!lifecycle.acceptsWrites)
        #expect(lifecycle.outputDrained() == .shutdownOutput)
        #expect(lifecycle.deliversInput, "a half-closed connection still reads")
        #expect(lifecycle.inputEnded() == .notifyInputEnded)
        #expect(lifecycle.lingeringCloseRequested(hasBufferedOutput: false) == .close(.local))
    }

    @Test func shutdownOutputAfterPeerEOFCloses() {
        var lifecycle = ConnectionLifecycle(connecting: false)
        #expect(lifecycle.inputEnded() == .notifyInputEnded)
        #expect(lifecycle.shutdownOutputRequested(hasBufferedOutput: false) == .close(.peerClosed))
    }

    @Test func pauseAndResumeOnlyToggleDelivery() {
        var lifecycle = ConnectionLifecycle(connecting: false)
        #expect(lifecycle.pauseInput() == true)
        #expect(lifecycle.pauseInput() == false)
        #expect(!lifecycle.wantsInput)
        #expect(lifecycle.deliversInput, "bytes already read still reach the handler")
        #expect(lifecycle.resumeInput() == true)
        #expect(lifecycle.resumeInput() == false)
        #expect(lifecycle.wantsInput)
        #expect(lifecycle.lingeringCloseRequested(hasBufferedOutput: true) == .none)
        #expect(lifecycle.pauseInput() == false, "a lingering close keeps reading whatever the handler wanted")
    }

    @Test func closeReasonsFollowWhoEndedFirst() {
        var local = ConnectionLifecycle(connecting: false)
        #expect(local.closeRequested() == .close(.local))

        var peer = ConnectionLifecycle(connecting: false)
        _ = peer.inputEnded()
        #expect(peer.closeRequested() == .close(.peerClosed))

        var connecting = ConnectionLifecycle(connecting: true)
        #expect(connecting.lingeringCloseRequested(hasBufferedOutput: true) == .close(.local))

        var failed = ConnectionLifecycle(connecting: false)
        let reset = SystemError(call: "read", errno: 104)
        #expect(failed.close(.failed(reset)) == .close(.failed(reset)))
        #expect(failed.close(.loopStopped) == .none)
    }
}
