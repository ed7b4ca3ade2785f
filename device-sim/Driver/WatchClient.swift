// A blocking consumer of the collector's Watch RPC (`device-sim watch`): one HTTP/2 connection (plaintext h2c, or
// TLS with ALPN h2), one stream, the WatchRequest sent at once; then every DeviceBatch is decoded and handed on as
// it arrives, and the stream's DATA is credited back only after that, so a slow consumer slows the collector's
// sending (HTTP/2 flow control) rather than growing memory here. It ends with the call's status, or when
// `interrupted` is set (SIGINT), checked at least every 200 ms.

import EventIO
import Foundation
import GRPC
import HTTP2
import Synchronization
import TLS
import Telemetry

/// The Watch client of the simulator's `watch` command (see above).
public enum WatchClient {
    /// Set from a signal handler to end the watch; the client then returns nil.
    public static let interrupted = Atomic<Bool>(false)

    /// What the caller sees, in order.
    public enum Event {
        /// The collector answered with response headers: the subscription is in place.
        case subscribed
        /// One message of the stream.
        case batch(DeviceBatch)
    }

    /// Watches `target` (`host:port`) with `request` until the stream ends (its status) or `interrupted` (nil).
    /// `authorization` is sent as the `authorization` metadata; `tls`, when given, must offer ALPN h2.
    public static func run(
        target: String, request: WatchRequest, authorization: String?, tls: TLSContext?,
        onEvent: (Event) -> Void
    ) throws -> GRPCStatus? {
        let fd = try CollectorClient.connect(target, timeoutSeconds: 10)
        defer { close(fd) }
        let secure = try tls.map { context in
            do {
                return try TLSBlockingConnection(
                    fd: fd, context: context, serverName: CollectorClient.hostName(of: target))
            } catch {
                throw RunError(description: "cannot connect to \(target) over TLS: \(error)")
            }
        }
        let stream = WatchStreamState()
        let session = HTTP2Session(role: .client, delegate: stream)
        var metadata: GRPCMetadata = ["content-type": "application/grpc", "te": "trailers"]
        if let authorization { metadata.append("authorization", authorization) }
        let head = GRPCRequestHead(
            scheme: tls == nil ? "http" : "https", path: WatchServerCall.path, authority: target,
            metadata: metadata)
        let id = try session.submitRequest([HTTP2HeaderField](head), endStream: false)
        stream.id = id
        session.send(streamID: id, GRPCMessageFramer.frame(request.protobufBytes()))
        session.finish(streamID: id)

        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            // Handed on before the DATA credit (WINDOW_UPDATE) goes out in this drain.
            for event in stream.takeEvents() { onEvent(event) }
            if let status = stream.status { return status }
            var output: [UInt8] = []
            try session.drainOutput(into: &output, limit: 1 << 20)
            if !output.isEmpty { try write(output, fd: fd, secure: secure) }
            if interrupted.load(ordering: .relaxed) { return nil }
            var pollFD = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&pollFD, 1, 200) > 0 else { continue }
            let count = try secure.map { try $0.receive(into: &buffer) }
                ?? buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else {
                for event in stream.takeEvents() { onEvent(event) }
                return stream.status ?? GRPCStatus(.unavailable, "the collector closed the connection")
            }
            try buffer.withUnsafeBytes { bytes in
                try session.receive(UnsafeRawBufferPointer(rebasing: bytes[0..<count]))
            }
        }
    }

    private static func write(_ bytes: [UInt8], fd: Int32, secure: TLSBlockingConnection?) throws {
        if let secure {
            try secure.send(bytes)
            return
        }
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw RunError(description: "cannot send to the collector: errno \(errno)") }
            offset += sent
        }
    }
}

/// The Watch stream as the session reports it: decodes messages as DATA arrives, notes the headers and the status.
private final class WatchStreamState: HTTP2SessionDelegate {
    var id: Int32 = -1
    private(set) var status: GRPCStatus?
    private var events: [WatchClient.Event] = []
    private var deframer = GRPCMessageDeframer(maxMessageBytes: 16 << 20)
    private var httpStatus: Int?

    func takeEvents() -> [WatchClient.Event] {
        defer { events.removeAll() }
        return events
    }

    func http2Session(_ session: HTTP2Session, didReceive event: HTTP2Event) {
        switch event {
        case .headers(let streamID, _, let fields, _, _) where streamID == id:
            if let code = fields[":status"].flatMap({ Int($0) }) { httpStatus = code }
            if let text = fields["grpc-status"] {
                let code = Int(text).flatMap(GRPCStatus.Code.init(rawValue:)) ?? .unknown
                status = status ?? GRPCStatus(code, GRPCMessageText.decode(fields["grpc-message"] ?? ""))
            } else if httpStatus == 200 {
                events.append(.subscribed)
            }
        case .data(let streamID, let bytes) where streamID == id:
            var decoded: [DeviceBatch] = []
            do throws(GRPCDeframeErrorOr<DecodeError>) {
                try deframer.process(bytes) { (message: UnsafeRawBufferPointer) throws(DecodeError) in
                    decoded.append(try DeviceBatch(protobuf: message))
                }
            } catch {
                status = status ?? GRPCStatus(.internal, "malformed DeviceBatch: \(error)")
            }
            events += decoded.map(WatchClient.Event.batch)
            session.consume(streamID: streamID, count: bytes.count)
        case .streamClosed(let streamID, let errorCode) where streamID == id:
            if status == nil {
                status =
                    httpStatus.map { $0 != 200 ? GRPCStatus.fromHTTPStatus($0) : nil } ?? nil
                    ?? GRPCStatus(.internal, "stream closed without grpc-status (HTTP/2 error \(errorCode))")
            }
        case .goaway(_, let errorCode):
            if status == nil && errorCode != 0 {
                status = GRPCStatus(.unavailable, "the collector sent GOAWAY (HTTP/2 error \(errorCode))")
            }
        default:
            break
        }
    }
}
