// The syscall funnel: would-block is a value, errors carry the call and errno, and read well.

import Glibc
import Testing

@testable import EventIO

@Suite struct SyscallTests {
    @Test func emptyNonBlockingPipeWouldBlock() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        #expect(fcntl(fds[0], F_SETFL, O_NONBLOCK) == 0)
        defer {
            Syscall.close(fds[0])
            Syscall.close(fds[1])
        }
        var byte: UInt8 = 0
        let result = try Syscall.nonBlocking("read") { read(fds[0], &byte, 1) }
        guard case .wouldBlock = result else {
            Issue.record("expected wouldBlock")
            return
        }
        #expect(write(fds[1], "x", 1) == 1)
        let second = try Syscall.nonBlocking("read") { read(fds[0], &byte, 1) }
        guard case .done(let count) = second else {
            Issue.record("expected a byte")
            return
        }
        #expect(count == 1 && byte == UInt8(ascii: "x"))
    }

    @Test func failuresCarryTheCallAndErrno() {
        #expect(throws: SystemError(call: "fcntl", errno: EBADF)) {
            try Syscall.run("fcntl") { fcntl(-1, F_GETFD) }
        }
        let error = SystemError(call: "connect", errno: ECONNREFUSED)
        #expect(error.description == "connect: Connection refused (errno 111)")
    }
}
