import EventIO
import Foundation
import GRPC
import Storage
import Store
import Testing
import Telemetry
@testable import Collector
@testable import CollectorService

/// Backpressure answers and the 10,000-connection claim.
@Suite(.serialized) struct OverloadAndScaleTests {
    @Test func fullStoreQueueAnswersUnavailableAndRetriesStoreEverythingOnce() throws {
        let collector = try TestCollector(store: { $0.maxQueuedBatches = 1 })
        let client = try GRPCTestClient(port: collector.port)
        let batches = (1...300).map { TestBatches.batch(UInt64($0), readings: 20) }
        // All 300 messages in one write: they are decoded and submitted back to back, faster than commits.
        let stream = try client.open(TelemetryMethod.upload.rawValue, deviceID: "flood")
        try client.send(stream, batches.flatMap { GRPCMessageFramer.frame($0.protobufBytes()) })
        let first = GRPCEndToEndTests.status(try client.finish(stream))
        #expect(first.code == .unavailable)
        #expect(first.message.contains("overloaded") && first.message.contains("retry"))
        // The device retries batch by batch; duplicates are recognised, nothing is lost or stored twice.
        var stored = 0
        var duplicates = 0
        for batch in batches {
            for attempt in 1... {
                switch try client.call(.push, deviceID: "flood", [batch]) {
                case .success(let ack):
                    stored += Int(ack.readings)
                    duplicates += Int(ack.duplicateBatches)
                case .failure(let status):
                    #expect(status.code == .unavailable)
                    #expect(attempt < 100)
                    Thread.sleep(forTimeInterval: 0.002)
                    continue
                }
                break
            }
        }
        #expect(try collector.query("SELECT count(*) FROM readings_view WHERE device = 'flood'") == ["6000"])
        #expect(stored + duplicates * 20 == 6000)
    }

    @Test func overloadMapsTo503WithRetryAfterForREST() {
        let error = StoreError.overloaded(queuedBatches: 10).restError
        #expect(error.status == 503)
        #expect(error.headers.contains { $0.name == "retry-after" && $0.value == "1" })
        #expect(StoreError.overloaded(queuedBatches: 1).grpcStatus.code == .unavailable)
        #expect(StoreError.closed.grpcStatus.code == .unavailable)
    }

    /// 10,000 idle devices held by another process (half after a REST batch on a kept-alive connection, half h2c
    /// after the preface and SETTINGS), while a new device is served.
    @Test func tenThousandIdleDevicesStayConnectedAndOthersAreServed() throws {
        // All 10,000 come from 127.0.0.1: above the default per-address limit (1,024), so it is raised here.
        let collector = try TestCollector { $0.maxConnectionsPerAddress = 20_000 }
        let rssBefore = System.residentBytes() ?? 0
        let script = """
            import socket, sys, resource
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            port = int(sys.argv[1]); held = []
            body = b'{"seq":1,"readings":[]}'
            for i in range(10000):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                if i % 2 == 0:
                    s.sendall(b"POST /v1/devices/idle-%d/readings HTTP/1.1\\r\\nHost: t\\r\\nContent-Type: application/json\\r\\n"
                              b"Content-Length: %d\\r\\n\\r\\n%s" % (i, len(body), body))
                    reply = b""
                    while b'"last_seq":1}' not in reply:
                        chunk = s.recv(4096)
                        if not chunk: sys.exit("closed at %d" % i)
                        reply += chunk
                    if not reply.startswith(b"HTTP/1.1 200"): sys.exit("bad reply %r" % reply[:40])
                else:
                    s.sendall(b"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
                held.append(s)
            print("ready", flush=True)
            sys.stdin.readline()
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, String(collector.port)]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        defer {
            try? input.fileHandleForWriting.close()
            process.waitUntilExit()
        }
        let line = String(decoding: output.fileHandleForReading.availableDataOrLine(), as: UTF8.self)
        #expect(line.hasPrefix("ready"), "helper said: \(line)")
        // The last connections may still be in the accept queue or the sniffer: wait, bounded.
        let deadline = Date().addingTimeInterval(10)
        while collector.server.openConnections() < 10_000 && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(collector.server.openConnections() == 10_000)
        let rssAfter = System.residentBytes() ?? 0
        print("collector RSS growth with 10,000 idle connections: \((rssAfter - rssBefore) >> 20) MiB")
        let fresh = try GRPCTestClient(port: collector.port)
        #expect(try fresh.call(.push, deviceID: "active", [TestBatches.batch(1)]).get().readings == 10)
    }
}

extension FileHandle {
    /// Reads until a newline or end of file.
    func availableDataOrLine() -> Data {
        var data = Data()
        while true {
            let chunk = readData(ofLength: 1)
            if chunk.isEmpty || chunk == Data([10]) { return data }
            data.append(chunk)
        }
    }
}
