// TLSTransport as the handler of the socket: whole records in (classified, decrypted, plaintext handed up),
// ciphertext out (queued as runs, booked as the socket reports it sent). See TLSTransport.swift.

public import EventIO
internal import COpenSSL

extension TLSTransport {
    // MARK: ConnectionHandler (the socket's events)

    public func connectionDidOpen(_ connection: any ByteTransport) {
        // A client's outbound connect completed: send the ClientHello.
        if !context.isServer && !isHandshakeComplete { driveHandshake() }
    }

    public func connection(_ connection: any ByteTransport, didRead byteCount: Int) {
        ciphertextRead += UInt64(byteCount)
    }

    public func connection(_ connection: any ByteTransport, didReceive input: UnsafeRawBufferPointer) -> Int {
        var offset = 0
        while offset < input.count && !isClosed && !isPaused && !inputEnded {
            let rest = UnsafeRawBufferPointer(rebasing: input[offset...])
            guard let parsed = TLSRecordHeader.parse(rest) else { break }
            switch parsed {
            case .failure(let error):
                fail(error)
                return input.count
            case .success(let header):
                if let refusal = refusalOfFirstRecord(rest, header) {
                    fail(refusal)
                    return input.count
                }
                guard rest.count >= header.recordLength else { return offset }
                process(UnsafeRawBufferPointer(rebasing: rest[0..<header.recordLength]), header)
                offset += header.recordLength
            }
        }
        return isClosed ? input.count : offset
    }

    public func connection(_ connection: any ByteTransport, didWrite byteCount: Int) {
        let sent = runs.sent(byteCount)
        byteCounts.handshakeOut += UInt64(sent.handshake)
        byteCounts.recordOut += UInt64(sent.record)
        if sent.plaintext > 0 {
            bytesWritten += UInt64(sent.plaintext)
            handler?.connection(self, didWrite: sent.plaintext)
        }
    }

    public func connectionDidDrain(_ connection: any ByteTransport) {
        if isHandshakeComplete && plainOutbound.isEmpty { handler?.connectionDidDrain(self) }
    }

    public func connectionInputDidEnd(_ connection: any ByteTransport) {
        guard isHandshakeComplete, let handler else {
            connection.close()
            return
        }
        handler.connectionInputDidEnd(self)
    }

    public func connectionIdleTimeoutExpired(_ connection: any ByteTransport) {
        guard isHandshakeComplete, let handler else {
            connection.close()
            return
        }
        handler.connectionIdleTimeoutExpired(self)
    }

    public func connection(_ connection: any ByteTransport, didCloseWith reason: CloseReason) {
        closed = true
        if let handshakeTimer { loop.cancel(handshakeTimer) }
        handshakeTimer = nil
        // Ciphertext read but never processed (a partial record, bytes after a failure) is record overhead.
        let processed = byteCounts.handshakeIn + byteCounts.recordIn + bytesRead
        if ciphertextRead > processed { byteCounts.recordIn += ciphertextRead - processed }
        if !isHandshakeComplete { endHandshake(failure: handshakeFailure ?? TLSError("closed during the handshake")) }
        plainUnconsumed = []
        plainOutbound = []
        let handler = self.handler
        self.handler = nil
        handler?.connection(self, didCloseWith: closeReasonOverride ?? reason)
    }

    // MARK: Records in

    /// A server's first record must be a handshake record starting a ClientHello (type 1): anything else is refused
    /// at its sixth byte, not after waiting for a record length made of garbage (`\x16\x03\x01 not a request`).
    private func refusalOfFirstRecord(_ bytes: UnsafeRawBufferPointer, _ header: TLSRecordHeader) -> TLSError? {
        guard context.isServer, byteCounts.handshakeIn == 0, !isHandshakeComplete else { return nil }
        guard header.contentType == TLSRecordHeader.handshake else {
            return TLSError("not TLS: the first record is of type \(header.contentType), not a handshake")
        }
        guard bytes.count > TLSRecordHeader.byteCount else { return nil }
        let messageType = bytes[TLSRecordHeader.byteCount]
        guard messageType == 1 else {
            return TLSError("not TLS: the first handshake message is of type \(messageType), not a ClientHello")
        }
        return nil
    }

    /// Feeds one whole record to OpenSSL and books it.
    private func process(_ record: UnsafeRawBufferPointer, _ header: TLSRecordHeader) {
        _ = BIO_write(readBIO, record.baseAddress, Int32(record.count))
        let length = UInt64(record.count)
        guard isHandshakeComplete else {
            byteCounts.handshakeIn += length
            driveHandshake()
            return
        }
        var plaintext = 0
        var endedOrFailed = false
        withUnsafeTemporaryAllocation(byteCount: TLSRecordHeader.maxFragmentLength, alignment: 1) { buffer in
            while true {
                let count = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
                if count > 0 {
                    plaintext += Int(count)
                    deliverPlaintext(UnsafeRawBufferPointer(rebasing: buffer[0..<Int(count)]))
                    if isClosed { return }
                    continue
                }
                let error = SSL_get_error(ssl, count)
                if error == SSL_ERROR_WANT_READ { return }
                endedOrFailed = true
                if error == SSL_ERROR_ZERO_RETURN {
                    inputEnded = true
                } else {
                    handshakeFailure = TLSError.openSSL("TLS record refused")
                }
                return
            }
        }
        // The handler closed while plaintext was delivered: closing booked this record's overhead with the rest of
        // the ciphertext read (didCloseWith), so booking it here too would count it twice.
        if isClosed { return }
        // Output a read produced (a KeyUpdate answer, an alert) is handshake / record bytes respectively.
        pumpCiphertext(endedOrFailed ? .record : .handshake)
        if plaintext > 0 {
            byteCounts.recordIn += length - UInt64(plaintext)
        } else if header.contentType == TLSRecordHeader.applicationData && !endedOrFailed {
            byteCounts.handshakeIn += length  // a post-handshake message: a session ticket, a KeyUpdate
        } else {
            byteCounts.recordIn += length  // an alert (close_notify included) or a record that failed
        }
        if endedOrFailed && !isClosed {
            if inputEnded {
                handler?.connectionInputDidEnd(self)
            } else {
                underlying.close()
            }
        }
    }

    /// Hands plaintext to the handler after what it left unconsumed; keeps what it leaves now, up to the limit a
    /// socket connection keeps (`Connection.maxUnconsumedByteCount`): a handler that leaves that much is closed with
    /// `.unconsumedInputLimit`, as it would be on a plaintext connection, instead of buffering without bound.
    func deliverPlaintext(_ fresh: UnsafeRawBufferPointer?) {
        guard let handler else { return }
        if let fresh, !fresh.isEmpty {
            bytesRead += UInt64(fresh.count)
            handler.connection(self, didRead: fresh.count)
            if isClosed { return }
            if plainUnconsumed.isEmpty {
                let consumed = handler.connection(self, didReceive: fresh)
                if consumed < fresh.count && !isClosed { plainUnconsumed.append(contentsOf: fresh[consumed...]) }
                closeIfUnconsumedOverLimit()
                return
            }
            plainUnconsumed.append(contentsOf: fresh)
        }
        guard !plainUnconsumed.isEmpty else { return }
        let pending = plainUnconsumed
        let consumed = pending.withUnsafeBytes { handler.connection(self, didReceive: $0) }
        if isClosed { return }
        plainUnconsumed.removeFirst(min(consumed, plainUnconsumed.count))
        closeIfUnconsumedOverLimit()
    }

    private func closeIfUnconsumedOverLimit() {
        guard !isClosed, plainUnconsumed.count >= Connection.maxUnconsumedByteCount else { return }
        closeReasonOverride = .unconsumedInputLimit
        underlying.close()
    }

    // MARK: Handshake

    /// Runs the handshake as far as the input allows, sending what it produces.
    func driveHandshake() {
        let result = SSL_do_handshake(ssl)
        let error = result == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl, result)
        let isFailure = result != 1 && error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE
        // What a failing step writes is the alert: record bytes, like every alert.
        pumpCiphertext(isFailure ? .record : .handshake)
        if result == 1 {
            completeHandshake()
            return
        }
        if !isFailure { return }
        var failure = TLSError.openSSL("TLS handshake failed")
        if let refused = refusedPSKIdentity {
            failure = TLSError("TLS handshake failed: PSK identity \"\(refused)\" refused")
        }
        failHandshake(failure, sendAlert: true)
    }

    private func completeHandshake() {
        isHandshakeComplete = true
        if let handshakeTimer { loop.cancel(handshakeTimer) }
        handshakeTimer = nil
        var name: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &name, &length)
        if let name, length > 0 {
            applicationProtocol = String(decoding: UnsafeBufferPointer(start: name, count: Int(length)), as: UTF8.self)
        }
        if SSL_session_reused(ssl) == 1 {
            handshakeKind = (context.isServer ? offeredPSKIdentity != nil : clientPSK != nil) ? .psk : .resumed
        } else {
            handshakeKind = .full
        }
        endHandshake(failure: nil)
        handler?.connectionDidOpen(self)
        if isClosed { return }
        // Records that arrived with the last handshake flight are already in OpenSSL's buffer.
        if !plainOutbound.isEmpty { flush() }
    }

    func failHandshake(_ failure: TLSError, sendAlert: Bool) {
        handshakeFailure = failure
        endHandshake(failure: failure)
        if sendAlert {
            // The alert OpenSSL queued is already out (pumped as handshake bytes); let it reach the peer.
            underlying.closeLingering(timeout: .milliseconds(500))
        } else {
            underlying.close()
        }
    }

    private func endHandshake(failure: TLSError?) {
        if failure != nil { handshakeFailure = failure }
        let callback = onHandshakeEnd
        onHandshakeEnd = nil
        callback?(self)
    }

    // MARK: Records out

    /// Encrypts `plaintext` (one SSL_write: records of up to 16 KiB) and queues the records.
    func encrypt(_ plaintext: [UInt8]) {
        let written = plaintext.withUnsafeBytes { SSL_write(ssl, $0.baseAddress, Int32($0.count)) }
        guard written == Int32(plaintext.count) else {
            fail(TLSError.openSSL("TLS write failed"))
            return
        }
        pumpCiphertext(.plaintext, plaintextCount: plaintext.count)
    }

    /// Sends close_notify once.
    func sendCloseNotify() {
        guard isHandshakeComplete, !isClosed, SSL_get_shutdown(ssl) & SSL_SENT_SHUTDOWN == 0 else { return }
        _ = SSL_shutdown(ssl)
        pumpCiphertext(.record)
    }

    /// Moves what OpenSSL wrote into its BIO to the socket, queuing the runs it books as. For application data
    /// (`.plaintext`), each record is split into header, the plaintext it carries, and trailer (inner type, tag).
    func pumpCiphertext(_ part: CiphertextPart, plaintextCount: Int = 0) {
        let pending = Int(BIO_ctrl_pending(writeBIO))
        guard pending > 0 else { return }
        var ciphertext = [UInt8](repeating: 0, count: pending)
        let count = Int(ciphertext.withUnsafeMutableBytes { BIO_read(writeBIO, $0.baseAddress, Int32(pending)) })
        guard count > 0 else { return }
        if part == .plaintext {
            queueApplicationRecords(ciphertext[0..<count], plaintextCount: plaintextCount)
        } else {
            runs.append(part, count)
        }
        _ = ciphertext.withUnsafeBytes { underlying.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
    }

    private func queueApplicationRecords(_ ciphertext: ArraySlice<UInt8>, plaintextCount: Int) {
        var lengths: [Int] = []
        var offset = ciphertext.startIndex
        while offset + TLSRecordHeader.byteCount <= ciphertext.endIndex {
            let length = Int(ciphertext[offset + 3]) << 8 | Int(ciphertext[offset + 4])
            lengths.append(length)
            offset += TLSRecordHeader.byteCount + length
        }
        guard !lengths.isEmpty, offset == ciphertext.endIndex else {
            runs.append(.record, ciphertext.count - plaintextCount)  // not record-shaped: book the totals
            runs.append(.plaintext, plaintextCount)
            return
        }
        let overheadPerRecord = (lengths.reduce(0, +) - plaintextCount) / lengths.count
        var plaintextLeft = plaintextCount
        for (index, length) in lengths.enumerated() {
            let carried =
                index == lengths.count - 1 ? plaintextLeft : min(plaintextLeft, max(length - overheadPerRecord, 0))
            plaintextLeft -= carried
            runs.append(.record, TLSRecordHeader.byteCount)
            runs.append(.plaintext, carried)
            runs.append(.record, length - carried)
        }
    }

    /// A protocol violation or internal failure: close now.
    func fail(_ error: TLSError) {
        if !isHandshakeComplete {
            failHandshake(error, sendAlert: false)
        } else {
            handshakeFailure = error
            underlying.close()
        }
    }
}
