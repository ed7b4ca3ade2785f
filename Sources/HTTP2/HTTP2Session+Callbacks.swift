// nghttp2's C callbacks. Each has one shape: guard the pointers, recover the session from `user_data` with
// `Unmanaged.fromOpaque(...).takeUnretainedValue()` (the owner keeps the session alive until
// `nghttp2_session_del`, which runs in its deinit), call a Swift method, and map failure to nghttp2's codes.
// Nothing here calls mem_recv/mem_send; submit_* and resume are allowed inside callbacks.

internal import CNghttp2
import Glibc

extension HTTP2Session {
    static func from(_ userData: UnsafeMutableRawPointer?) -> HTTP2Session? {
        guard let userData else { return nil }
        return Unmanaged<HTTP2Session>.fromOpaque(userData).takeUnretainedValue()
    }

    func installCallbacks(_ callbacks: OpaquePointer) {
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, onBeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback(callbacks, onHeader)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, onFrameRecv)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, onDataChunkRecv)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, onStreamClose)
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks, onFrameSend)
        nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(callbacks, onInvalidFrameRecv)
        nghttp2_session_callbacks_set_error_callback2(callbacks, onError)
    }

    func beginHeaders(streamID: Int32) {
        incoming[streamID] = ([], 0, false)
    }

    func header(streamID: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        guard var block = incoming[streamID] else { return }
        block.size += name.count + value.count + 32
        if block.size > settings.maxHeaderListSize {
            block.isTooLarge = true
        } else if !block.isTooLarge {
            block.fields.append(HTTP2HeaderField(String(decoding: name, as: UTF8.self),
                                                 String(decoding: value, as: UTF8.self)))
        }
        incoming[streamID] = block
    }

    func frameReceived(type: UInt8, flags: UInt8, length: Int, streamID: Int32, category: nghttp2_headers_category?,
                       lastStreamID: Int32, errorCode: UInt32) {
        if let flood = floodGuard?.received(type: type, flags: flags, length: length, at: Self.monotonicNanoseconds()) {
            terminateAsFlood(flood)
            return
        }
        let endStream = flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        switch type {
        case HTTP2FrameType.headers:
            guard let block = incoming.removeValue(forKey: streamID) else { return }
            let kind: HTTP2HeaderBlockKind
            switch category {
            case NGHTTP2_HCAT_REQUEST: kind = .request
            case NGHTTP2_HCAT_RESPONSE: kind = .response
            default: kind = .trailers
            }
            delegate?.http2Session(self, didReceive: .headers(streamID: streamID, kind: kind, fields: block.fields,
                                                              endStream: endStream, isTooLarge: block.isTooLarge))
        case HTTP2FrameType.data where endStream:
            delegate?.http2Session(self, didReceive: .endStream(streamID: streamID))
        case HTTP2FrameType.goaway:
            delegate?.http2Session(self, didReceive: .goaway(lastStreamID: lastStreamID, errorCode: errorCode))
        default:
            break
        }
    }

    func dataReceived(streamID: Int32, bytes: UnsafeRawBufferPointer) {
        unconsumed[streamID, default: 0] += bytes.count
        delegate?.http2Session(self, didReceive: .data(streamID: streamID, bytes: bytes))
    }

    func streamClosed(streamID: Int32, errorCode: UInt32) {
        // Credit what the owner never consumed to the connection window, or every other stream stalls.
        if let owed = unconsumed.removeValue(forKey: streamID), owed > 0 {
            nghttp2_session_consume_connection(session, owed)
        }
        incoming.removeValue(forKey: streamID)
        outbound.removeValue(forKey: streamID)
        delegate?.http2Session(self, didReceive: .streamClosed(streamID: streamID, errorCode: errorCode))
    }

    /// Answers a flood with GOAWAY(ENHANCE_YOUR_CALM); nghttp2 then ignores all further input.
    func terminateAsFlood(_ flood: HTTP2Flood) {
        guard self.flood == nil else { return }
        self.flood = flood
        nghttp2_session_terminate_session(session, HTTP2ErrorCode.enhanceYourCalm)
    }

    /// CLOCK_MONOTONIC in nanoseconds, for the flood budgets.
    static func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    func frameSent(type: UInt8, flags: UInt8, streamID: Int32, resetCode: UInt32) {
        if type == HTTP2FrameType.rstStream,
            let flood = floodGuard?.sentReset(errorCode: resetCode, at: Self.monotonicNanoseconds())
        {
            terminateAsFlood(flood)
            return
        }
        // Early server closure (gRPC PROTOCOL-HTTP2 "trailers before the client finished"): after our END_STREAM
        // has gone out, reset the client's side with NO_ERROR. Submitting the RST together with the response
        // would drop the response's HEADERS (nghttp2#692), hence here.
        guard role == .server, flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0,
            type == HTTP2FrameType.headers || type == HTTP2FrameType.data, !isRemoteClosed(streamID: streamID)
        else { return }
        reset(streamID: streamID, errorCode: HTTP2ErrorCode.noError)
    }

    /// The data provider: copies queued body bytes; defers while none are queued; at the end sets EOF and, with
    /// trailers, NO_END_STREAM plus the trailers (so END_STREAM travels on the trailers' HEADERS frame).
    func readBody(streamID: Int32, into buffer: UnsafeMutablePointer<UInt8>, length: Int,
                  flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard var body = outbound[streamID] else {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            return 0
        }
        let available = body.bytes.count - body.readIndex
        let count = min(available, length)
        if count > 0 {
            body.bytes.withUnsafeBufferPointer { source in
                buffer.update(from: source.baseAddress! + body.readIndex, count: count)
            }
            body.readIndex += count
        }
        if body.readIndex == body.bytes.count {
            if body.isFinished {
                flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
                if let trailers = body.trailers {
                    flags.pointee |= NGHTTP2_DATA_FLAG_NO_END_STREAM.rawValue
                    _ = try? withNameValues(trailers) { (nva, n) throws(HTTP2Error) in
                        nghttp2_submit_trailer(session, streamID, nva, n)
                    }
                }
                body.bytes = []
                body.readIndex = 0
            } else if count == 0 {
                body.isDeferred = true
                outbound[streamID] = body
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            } else {
                body.bytes.removeAll(keepingCapacity: true)
                body.readIndex = 0
            }
        }
        outbound[streamID] = body
        return count
    }
}

private let onBeginHeaders: nghttp2_on_begin_headers_callback = { _, frame, userData in
    guard let frame, let session = HTTP2Session.from(userData) else { return 0 }
    session.beginHeaders(streamID: frame.pointee.hd.stream_id)
    return 0
}

private let onHeader: nghttp2_on_header_callback = { _, frame, name, nameLength, value, valueLength, _, userData in
    guard let frame, let name, let value, let session = HTTP2Session.from(userData) else { return 0 }
    session.header(streamID: frame.pointee.hd.stream_id, name: UnsafeBufferPointer(start: name, count: nameLength),
                   value: UnsafeBufferPointer(start: value, count: valueLength))
    return 0
}

private let onFrameRecv: nghttp2_on_frame_recv_callback = { _, frame, userData in
    guard let frame, let session = HTTP2Session.from(userData) else { return 0 }
    let hd = frame.pointee.hd
    let isHeaders = hd.type == HTTP2FrameType.headers
    let isGoaway = hd.type == HTTP2FrameType.goaway
    session.frameReceived(type: hd.type, flags: hd.flags, length: hd.length, streamID: hd.stream_id,
                          category: isHeaders ? frame.pointee.headers.cat : nil,
                          lastStreamID: isGoaway ? frame.pointee.goaway.last_stream_id : 0,
                          errorCode: isGoaway ? frame.pointee.goaway.error_code : 0)
    return 0
}

private let onDataChunkRecv: nghttp2_on_data_chunk_recv_callback = { _, _, streamID, data, length, userData in
    guard let data, let session = HTTP2Session.from(userData) else { return 0 }
    session.dataReceived(streamID: streamID, bytes: UnsafeRawBufferPointer(start: data, count: length))
    return 0
}

private let onStreamClose: nghttp2_on_stream_close_callback = { _, streamID, errorCode, userData in
    HTTP2Session.from(userData)?.streamClosed(streamID: streamID, errorCode: errorCode)
    return 0
}

private let onFrameSend: nghttp2_on_frame_send_callback = { _, frame, userData in
    guard let frame, let session = HTTP2Session.from(userData) else { return 0 }
    let hd = frame.pointee.hd
    session.frameSent(type: hd.type, flags: hd.flags, streamID: hd.stream_id,
                      resetCode: hd.type == HTTP2FrameType.rstStream ? frame.pointee.rst_stream.error_code : 0)
    return 0
}

private let onInvalidFrameRecv: nghttp2_on_invalid_frame_recv_callback = { _, _, _, userData in
    HTTP2Session.from(userData)?.invalidFrameCount += 1
    return 0
}

private let onError: nghttp2_error_callback2 = { _, _, message, length, userData in
    guard let message, let session = HTTP2Session.from(userData) else { return 0 }
    session.lastLibraryMessage = String(decoding: UnsafeRawBufferPointer(start: message, count: length), as: UTF8.self)
    return 0
}

let readBodyCallback: nghttp2_data_source_read_callback = { _, streamID, buffer, length, flags, _, userData in
    guard let buffer, let flags, let session = HTTP2Session.from(userData) else {
        return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue)
    }
    return session.readBody(streamID: streamID, into: buffer, length: length, flags: flags)
}
