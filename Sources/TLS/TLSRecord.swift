// The TLS record layer as seen from outside (RFC 8446 section 5.1, the same header in TLS 1.2): a 5-byte header
// (content type, legacy version, 16-bit length) and the fragment. The transport feeds OpenSSL one whole record at
// a time, so every ciphertext byte is classified exactly, and refuses what cannot be TLS before OpenSSL sees it.

/// The header of one TLS record.
struct TLSRecordHeader: Equatable {
    /// Bytes in a record header.
    static let byteCount = 5
    /// The largest fragment a peer may send: 2^14 + 256 (TLS 1.3's ciphertext limit; TLS 1.2 allows 2^14 + 2048,
    /// never produced by the ciphers we offer).
    static let maxFragmentLength = 16_384 + 2_048

    /// change_cipher_spec.
    static let changeCipherSpec: UInt8 = 20
    /// alert.
    static let alert: UInt8 = 21
    /// handshake.
    static let handshake: UInt8 = 22
    /// application_data.
    static let applicationData: UInt8 = 23

    /// The content type byte.
    var contentType: UInt8
    /// The fragment's length.
    var fragmentLength: Int
    /// Header and fragment.
    var recordLength: Int { Self.byteCount + fragmentLength }

    /// What the next record in `bytes` is: its header, `nil` when fewer than 5 bytes are there, or a refusal.
    static func parse(_ bytes: UnsafeRawBufferPointer) -> Result<TLSRecordHeader, TLSError>? {
        guard bytes.count >= byteCount else { return nil }
        let type = bytes[0]
        guard (changeCipherSpec...applicationData).contains(type) else {
            return .failure(TLSError("not TLS: record content type \(type)"))
        }
        guard bytes[1] == 3 else { return .failure(TLSError("not TLS: record version \(bytes[1]).\(bytes[2])")) }
        let length = Int(bytes[3]) << 8 | Int(bytes[4])
        guard length <= maxFragmentLength else {
            return .failure(TLSError("TLS record of \(length) bytes is over the \(maxFragmentLength)-byte limit"))
        }
        return .success(TLSRecordHeader(contentType: type, fragmentLength: length))
    }
}

/// What a run of queued ciphertext is, for booking it as the socket reports it sent.
enum CiphertextPart {
    /// Handshake records, tickets.
    case handshake
    /// Record headers, inner types, tags, alerts.
    case record
    /// The encrypted plaintext itself (counted as the plaintext bytes it carries).
    case plaintext
}

/// Ciphertext queued for the socket, as runs of one part each, booked in order as the socket reports bytes sent;
/// output never sent is never booked.
struct CiphertextRuns {
    private var runs: [(part: CiphertextPart, count: Int)] = []
    private var head = 0

    /// Appends `count` bytes of `part` (merged with the last run when it is the same part).
    mutating func append(_ part: CiphertextPart, _ count: Int) {
        guard count > 0 else { return }
        if runs.count > head, runs[runs.count - 1].part == part {
            runs[runs.count - 1].count += count
        } else {
            runs.append((part, count))
        }
    }

    /// Books `count` sent bytes: how many of them were plaintext, handshake and record bytes.
    mutating func sent(_ count: Int) -> (plaintext: Int, handshake: Int, record: Int) {
        var left = count
        var booked = (plaintext: 0, handshake: 0, record: 0)
        while left > 0 && head < runs.count {
            let take = min(left, runs[head].count)
            switch runs[head].part {
            case .plaintext: booked.plaintext += take
            case .handshake: booked.handshake += take
            case .record: booked.record += take
            }
            runs[head].count -= take
            left -= take
            if runs[head].count == 0 { head += 1 }
        }
        if head == runs.count {
            runs.removeAll(keepingCapacity: runs.capacity <= 16)
            head = 0
        }
        return booked
    }
}
