// One HTTP/2 connection's protocol state, on libnghttp2, for either role.
//
// Rules (grpc-nghttp2.md §2): nghttp2 does no I/O. The owner feeds received bytes to `receive` and sends what
// `drainOutput` produces; both run on the one thread that owns the session, never from inside a callback.
// Events reach the delegate synchronously from `receive`. Flow control is manual: received DATA is credited back
// to the peer only when the owner calls `consume`, so an owner that stops consuming stops the peer (backpressure);
// bytes of streams that close unconsumed are credited to the connection window so it never leaks.
// Outgoing bodies use one data provider per stream for the stream's life: it defers while the stream's outbound
// buffer is empty and is resumed when data or the end arrives. A server stream that sends its END_STREAM while
// the client is still sending is followed by RST_STREAM(NO_ERROR), submitted only once the end has gone out.

internal import CNghttp2

/// An HTTP/2 session: submit requests or responses, feed bytes in, drain bytes out.
public final class HTTP2Session {
    /// Server or client.
    public let role: HTTP2Role
    /// The advertised and enforced limits.
    public let settings: HTTP2Settings
    /// Receives events during `receive`.
    public weak var delegate: HTTP2SessionDelegate?

    var session: OpaquePointer!
    /// Where the session's memory comes from; outlives `session` (stored properties are released after `deinit`).
    let memory = HTTP2SessionMemory()
    /// Header fields being collected per stream, with their size so far.
    var incoming: [Int32: (fields: [HTTP2HeaderField], size: Int, isTooLarge: Bool)] = [:]
    /// Outgoing body per stream.
    var outbound: [Int32: OutboundBody] = [:]
    /// Received DATA bytes not yet consumed, per stream.
    var unconsumed: [Int32: Int] = [:]
    /// Invalid frames and resets received (for the owner's glitch budget).
    public internal(set) var invalidFrameCount = 0
    /// The last error nghttp2 described, for logs.
    public internal(set) var lastLibraryMessage = ""
    /// Set when the peer flooded the session (server): it has been answered GOAWAY(ENHANCE_YOUR_CALM) and all
    /// further input is ignored; drain the output, then close.
    public internal(set) var flood: HTTP2Flood?
    /// Counts the peer's frames against the flood budgets (server only).
    var floodGuard: HTTP2FloodGuard?

    /// An outgoing body: bytes waiting to be framed, whether the end has been given, trailers to send after it.
    struct OutboundBody {
        var bytes: [UInt8] = []
        var readIndex = 0
        var isFinished = false
        var trailers: [HTTP2HeaderField]?
        var isDeferred = false
        var isSubmitted = false
    }

    /// Creates the nghttp2 session for `role` and queues our SETTINGS; nothing is sent until `drainOutput`.
    public init(role: HTTP2Role, settings: HTTP2Settings = HTTP2Settings(), delegate: HTTP2SessionDelegate?) {
        self.role = role
        self.settings = settings
        self.delegate = delegate
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        installCallbacks(callbacks!)
        var option: OpaquePointer?
        nghttp2_option_new(&option)
        nghttp2_option_set_no_auto_window_update(option, 1)
        nghttp2_option_set_no_closed_streams(option, 1)
        nghttp2_option_set_max_outbound_ack(option, settings.maxOutboundAcks)
        nghttp2_option_set_max_settings(option, settings.maxSettingsEntries)
        nghttp2_option_set_max_send_header_block_length(option, 64 << 10)
        var created: OpaquePointer?
        let userData = Unmanaged.passUnretained(self).toOpaque()
        var allocator = memory.makeAllocator()
        switch role {
        case .server:
            floodGuard = HTTP2FloodGuard(limits: settings.floodLimits)
            nghttp2_option_set_stream_reset_rate_limit(option, settings.streamResetBurst, settings.streamResetRate)
            nghttp2_session_server_new3(&created, callbacks, userData, option, &allocator)
        case .client:
            nghttp2_session_client_new3(&created, callbacks, userData, option, &allocator)
        }
        nghttp2_option_del(option)
        nghttp2_session_callbacks_del(callbacks)
        session = created
        submitSettings()
    }

    deinit {
        nghttp2_session_del(session)
    }

    private func submitSettings() {
        var entries: [nghttp2_settings_entry] = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue),
                                   value: settings.initialWindowSize),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue),
                                   value: UInt32(settings.maxHeaderListSize)),
        ]
        switch role {
        case .server:
            entries.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue),
                                                  value: settings.maxConcurrentStreams))
        case .client:
            entries.append(nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0))
        }
        nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), entries, entries.count)
        let defaultWindow: Int32 = 65_535
        if settings.connectionWindowSize > defaultWindow {
            nghttp2_session_set_local_window_size(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0,
                                                  settings.connectionWindowSize)
        }
    }

    // MARK: Bytes in and out

    /// Feeds received bytes; events reach the delegate before this returns. Throws when the connection is beyond
    /// saving (bad preface, flood, callback failure): close it. Protocol errors are answered by a GOAWAY that
    /// `drainOutput` produces, after which `wantsRead` is false.
    public func receive(_ bytes: UnsafeRawBufferPointer) throws(HTTP2Error) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        let result = nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        if result < 0 {
            if result == NGHTTP2_ERR_FLOODED.rawValue && flood == nil { flood = .queuedAcks }
            throw Self.error(Int32(result))
        }
    }

    /// Appends the bytes nghttp2 wants to send to `buffer`, until there are none or `buffer` holds `limit` bytes
    /// (not pulling more while the socket is slow is the outbound backpressure; nghttp2 keeps frames queued).
    public func drainOutput(into buffer: inout [UInt8], limit: Int = 64 << 10) throws(HTTP2Error) {
        while buffer.count < limit {
            var data: UnsafePointer<UInt8>?
            let length = nghttp2_session_mem_send(session, &data)
            if length < 0 { throw Self.error(Int32(length)) }
            guard length > 0, let data else { return }
            buffer.append(contentsOf: UnsafeBufferPointer(start: data, count: length))
        }
    }

    /// True while the session expects more input.
    public var wantsRead: Bool { nghttp2_session_want_read(session) != 0 }
    /// True while the session has frames to send (the owner's own buffer is not counted).
    public var wantsWrite: Bool { nghttp2_session_want_write(session) != 0 }
    /// True when neither side has anything left to do: the connection can be closed once output is written.
    public var isFinished: Bool { !wantsRead && !wantsWrite }

    // MARK: Streams

    /// Submits a request (client). `endStream`: no body follows; otherwise send it with `send` and `finish`.
    public func submitRequest(_ headers: [HTTP2HeaderField], endStream: Bool) throws(HTTP2Error) -> Int32 {
        var streamID: Int32 = 0
        let body = endStream ? nil : OutboundBody()
        try withNameValues(headers) { (nva, count) throws(HTTP2Error) in
            if endStream {
                streamID = nghttp2_submit_request(session, nil, nva, count, nil, nil)
            } else {
                var provider = dataProvider()
                streamID = nghttp2_submit_request(session, nil, nva, count, &provider, nil)
            }
            if streamID < 0 { throw Self.error(streamID) }
        }
        if let body { outbound[streamID] = Self.submitted(body) }
        return streamID
    }

    /// Submits a response's headers (server). With `endStream` the headers end the stream (a headers-only or
    /// gRPC Trailers-Only response); otherwise send the body with `send` and end it with `finish`.
    public func submitResponse(streamID: Int32, _ headers: [HTTP2HeaderField], endStream: Bool) throws(HTTP2Error) {
        try withNameValues(headers) { (nva, count) throws(HTTP2Error) in
            let result: Int32
            if endStream {
                result = nghttp2_submit_response(session, streamID, nva, count, nil)
            } else {
                var provider = dataProvider()
                result = nghttp2_submit_response(session, streamID, nva, count, &provider)
            }
            if result < 0 { throw Self.error(result) }
        }
        if !endStream { outbound[streamID] = Self.submitted(outbound[streamID] ?? OutboundBody()) }
    }

    /// Queues body bytes on a stream whose request or response was submitted with a body.
    public func send(streamID: Int32, _ bytes: some Collection<UInt8>) {
        guard var body = outbound[streamID], !body.isFinished else { return }
        if body.readIndex > 0 && body.readIndex == body.bytes.count {
            body.bytes.removeAll(keepingCapacity: true)
            body.readIndex = 0
        }
        body.bytes.append(contentsOf: bytes)
        outbound[streamID] = body
        resumeIfDeferred(streamID)
    }

    /// Ends a stream's body, optionally with trailers (gRPC always sends `grpc-status` in trailers).
    public func finish(streamID: Int32, trailers: [HTTP2HeaderField]? = nil) {
        guard var body = outbound[streamID], !body.isFinished else { return }
        body.isFinished = true
        body.trailers = trailers
        outbound[streamID] = body
        resumeIfDeferred(streamID)
    }

    /// Bytes queued on all streams but not yet framed (what responses waiting for the peer hold here).
    public var pendingBodyByteCount: Int {
        outbound.values.reduce(0) { $0 + $1.bytes.count - $1.readIndex }
    }

    /// Bytes queued on a stream but not yet framed.
    public func pendingBodyBytes(streamID: Int32) -> Int {
        guard let body = outbound[streamID] else { return 0 }
        return body.bytes.count - body.readIndex
    }

    /// Credits `count` received DATA bytes back to the peer (stream and connection windows).
    public func consume(streamID: Int32, count: Int) {
        guard count > 0 else { return }
        let owed = unconsumed[streamID] ?? 0
        let credit = min(count, owed)
        guard credit > 0 else { return }
        unconsumed[streamID] = owed - credit
        nghttp2_session_consume(session, streamID, credit)
    }

    /// Resets a stream with an HTTP/2 error code.
    public func reset(streamID: Int32, errorCode: UInt32) {
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), streamID, errorCode)
    }

    /// True when the peer has ended its side of the stream (or the stream is gone).
    public func isRemoteClosed(streamID: Int32) -> Bool {
        nghttp2_session_get_stream_remote_close(session, streamID) != 0
    }

    /// False after a GOAWAY or when stream ids are exhausted: open a new connection (client).
    public var canSubmitRequest: Bool { nghttp2_session_check_request_allowed(session) != 0 }

    // MARK: Connection

    /// Graceful shutdown, step 1 (server): GOAWAY with the maximum stream id, so in-flight requests still land.
    public func submitShutdownNotice() { nghttp2_submit_shutdown_notice(session) }

    /// GOAWAY naming the last stream processed; streams above it are refused and may be retried.
    public func submitGoaway(errorCode: UInt32 = HTTP2ErrorCode.noError, debug: String = "") {
        let last = nghttp2_session_get_last_proc_stream_id(session)
        var bytes = Array(debug.utf8)
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), last, errorCode, &bytes, bytes.count)
    }

    /// Ends the session at once with GOAWAY(`errorCode`) (abuse, garbage); drain the output, then close.
    public func terminate(errorCode: UInt32) { nghttp2_session_terminate_session(session, errorCode) }

    /// Sends a PING (the ACK is automatic on the other side).
    public func submitPing() { nghttp2_submit_ping(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nil) }

    /// Streams currently open.
    public var openStreamCount: Int { incoming.count + outbound.count }

    // MARK: Internals

    func dataProvider() -> nghttp2_data_provider {
        nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: readBodyCallback)
    }

    static func submitted(_ body: OutboundBody) -> OutboundBody {
        var body = body
        body.isSubmitted = true
        return body
    }

    func resumeIfDeferred(_ streamID: Int32) {
        guard var body = outbound[streamID], body.isDeferred else { return }
        body.isDeferred = false
        outbound[streamID] = body
        nghttp2_session_resume_data(session, streamID)
    }

    static func error(_ code: Int32) -> HTTP2Error {
        HTTP2Error(code: code, message: String(cString: nghttp2_strerror(code)))
    }

    /// Calls `body` with the fields as an `nghttp2_nv` array (nghttp2 copies names and values).
    func withNameValues<R>(
        _ fields: [HTTP2HeaderField], _ body: (UnsafePointer<nghttp2_nv>, Int) throws(HTTP2Error) -> R
    ) throws(HTTP2Error) -> R {
        var storage: [UInt8] = []
        storage.reserveCapacity(fields.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count })
        var spans: [(Int, Int, Int, Int)] = []
        for field in fields {
            let nameStart = storage.count
            storage.append(contentsOf: field.name.utf8)
            let valueStart = storage.count
            storage.append(contentsOf: field.value.utf8)
            spans.append((nameStart, valueStart - nameStart, valueStart, storage.count - valueStart))
        }
        storage.append(0)  // never empty, so the base address exists
        let result: Result<R, HTTP2Error> = storage.withUnsafeMutableBufferPointer { buffer in
            let base = buffer.baseAddress!
            let nva = spans.map { span in
                nghttp2_nv(name: base + span.0, value: base + span.2, namelen: span.1, valuelen: span.3,
                           flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            let padded = nva.isEmpty ? [nghttp2_nv()] : nva  // a valid pointer even for zero fields
            return padded.withUnsafeBufferPointer { nvBuffer in
                Result { () throws(HTTP2Error) in try body(nvBuffer.baseAddress!, nva.count) }
            }
        }
        return try result.get()
    }
}
