/// Finds the end of a CRLF-terminated line in input that may arrive a byte at a time.
///
/// Strict on line endings (RFC 9112 §2.2 allows a recipient to reject what we reject): a CR must be followed by
/// LF, and an LF must be preceded by CR. The line's content is appended to a caller-owned buffer and its length
/// is bounded as it grows, so an over-long line is refused at the first byte past the bound, before it is stored.
struct LineScanner: Sendable {
    /// What one scan found.
    enum Outcome: Equatable {
        /// The line ended with CRLF; its content is in the buffer.
        case complete
        /// The input ran out first; every byte was taken.
        case incomplete
        /// The line grew past its bound; the scan stopped at the first byte past it.
        case tooLong
        /// A CR not followed by LF.
        case bareCR
        /// An LF not preceded by CR.
        case bareLF
    }

    /// Whether the last byte taken was the CR of a line ending whose LF has not arrived yet.
    private var isAfterCR = false

    /// Takes bytes from `input[start...]` up to the end of the current line.
    ///
    /// - Parameters:
    ///   - buffer: receives the line's content bytes (never the CR or LF).
    ///   - lineLength: how many content bytes of this line earlier scans already appended.
    ///   - maxLength: the most content bytes the line may have.
    /// - Returns: the outcome and the index just past the last byte taken (for errors, past the offending byte).
    mutating func scan(
        _ input: UnsafeRawBufferPointer, from start: Int, appendingTo buffer: inout [UInt8], lineLength: Int,
        maxLength: Int
    ) -> (outcome: Outcome, next: Int) {
        let end = input.count
        if isAfterCR {
            guard start < end else { return (.incomplete, start) }
            isAfterCR = false
            return (input[start] == ASCII.lf ? .complete : .bareCR, start + 1)
        }
        let room = max(0, maxLength - lineLength)
        let scanEnd = room < end - start ? start + room + 1 : end
        var cursor = start
        while cursor < scanEnd {
            let byte = input[cursor]
            if byte == ASCII.cr || byte == ASCII.lf { break }
            cursor += 1
        }
        if cursor - start > room { return (.tooLong, cursor) }
        if cursor > start { buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: input[start..<cursor])) }
        if cursor == end { return (.incomplete, end) }
        if input[cursor] == ASCII.lf { return (.bareLF, cursor + 1) }
        if cursor + 1 == end {
            isAfterCR = true
            return (.incomplete, end)
        }
        return (input[cursor + 1] == ASCII.lf ? .complete : .bareCR, cursor + 2)
    }
}
