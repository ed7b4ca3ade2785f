// A gRPC response on an HTTP/2 stream, one part at a time, shared by every gRPC stream kind (the Telemetry calls'
// GRPCServerStream, Watch's WatchServerStream): HEADERS (:status 200 + metadata), DATA with each framed message,
// then trailers; or one Trailers-Only HEADERS when the call ends before any response headers. The status part
// releases the stream's held request bytes and hands the stream to AnsweredServerStream.

import GRPC
import HTTP2

/// How far one stream's gRPC response has gone, kept by the stream and updated by `writeGRPC`.
struct GRPCResponseProgress {
    /// Response headers are out: the status goes in trailers, not in a Trailers-Only response.
    var hasSentHeaders = false
    /// The session refused the response headers (the stream is gone): nothing more of the response is sent.
    var isAbandoned = false
}

extension HTTP2ServerConnection {
    /// Writes one response part of the gRPC call on stream `id` into the session (see the file comment).
    func writeGRPC(_ part: GRPCResponsePart, on id: Int32, progress: inout GRPCResponseProgress) {
        switch part {
        case .headers(let metadata):
            progress.hasSentHeaders = true
            do {
                try session.submitResponse(streamID: id, .response(status: 200, metadata), endStream: false)
            } catch {
                progress.isAbandoned = true
            }
        case .message(let message):
            guard !progress.isAbandoned else { return }
            session.send(streamID: id, GRPCMessageFramer.frame(message))
            ledger.messages(streamID: id, count: 1, inbound: false)
        case .status(let status, let trailers):
            // The call is over: its held bytes and its place in the stream table go.
            held.release(id, budget: context.requestBuffers)
            streams[id] = AnsweredServerStream.shared
            if !progress.hasSentHeaders {
                try? session.submitResponse(
                    streamID: id, .response(status: 200, status.trailersOnlyMetadata + trailers), endStream: true)
            } else if !progress.isAbandoned {
                session.finish(streamID: id, trailers: .trailers(status.trailers + trailers))
            }
        }
    }
}
