// The C arrays libpq's parameterized calls take (PQexecParams, PQsendQueryParams), built from Swift values and
// valid only inside `withArrays`: every value is copied once into memory this type owns, text values
// NUL-terminated (libpq reads text parameters as C strings and ignores their lengths), binary values by length.

/// Parameter values laid out as libpq's `paramTypes`, `paramValues`, `paramLengths` and `paramFormats` arrays.
struct PostgresWireParameters {
    private var types: [UInt32] = []
    private var contents: [[UInt8]?] = []
    private var lengths: [Int32] = []
    private var formats: [Int32] = []

    /// Lays out `parameters`; nil is SQL NULL (a null pointer).
    /// - Throws: `PostgresError` (call `parameter`) for text with a NUL byte or a value over libpq's 2 GiB.
    init(_ parameters: [PostgresValue?]) throws(PostgresError) {
        for (index, parameter) in parameters.enumerated() {
            guard let parameter else {
                types.append(0)
                contents.append(nil)
                lengths.append(0)
                formats.append(0)
                continue
            }
            var (bytes, isBinary, typeOID) = parameter.wireForm
            guard bytes.count < Int(Int32.max) else {
                throw PostgresError(call: "parameter", message: "$\(index + 1) is larger than 2 GiB")
            }
            if !isBinary {
                guard !bytes.contains(0) else {
                    throw PostgresError(call: "parameter", message: "$\(index + 1) is text with a NUL byte")
                }
                bytes.append(0)
            }
            types.append(typeOID)
            lengths.append(Int32(isBinary ? bytes.count : bytes.count - 1))
            formats.append(isBinary ? 1 : 0)
            contents.append(bytes)
        }
    }

    /// Calls `body` with the parameter count and the four arrays, whose pointers live until `body` returns.
    func withArrays<Result>(
        _ body: (
            _ count: Int32, _ types: [UInt32], _ values: [UnsafePointer<CChar>?], _ lengths: [Int32],
            _ formats: [Int32]
        ) -> Result
    ) -> Result {
        let buffers = contents.map { bytes -> UnsafeMutablePointer<CChar>? in
            guard let bytes else { return nil }
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            bytes.withUnsafeBufferPointer { source in
                if let base = source.baseAddress {
                    UnsafeMutableRawPointer(buffer).copyMemory(from: base, byteCount: source.count)
                }
            }
            return buffer
        }
        defer { for buffer in buffers { buffer?.deallocate() } }
        return body(Int32(contents.count), types, buffers.map { $0.map { UnsafePointer($0) } }, lengths, formats)
    }
}

/// Calls `body` with two NULL-terminated arrays of C strings (libpq's keyword and value arrays), alive until it
/// returns.
func withCStringArrays<Result>(
    _ first: [String], _ second: [String],
    _ body: (_ first: [UnsafePointer<CChar>?], _ second: [UnsafePointer<CChar>?]) -> Result
) -> Result {
    func duplicate(_ strings: [String]) -> [UnsafeMutablePointer<CChar>?] {
        strings.map { string in
            let utf8 = Array(string.utf8) + [0]
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: utf8.count)
            utf8.withUnsafeBufferPointer { source in
                UnsafeMutableRawPointer(buffer).copyMemory(from: source.baseAddress!, byteCount: source.count)
            }
            return buffer
        } + [nil]
    }
    let firstPointers = duplicate(first)
    let secondPointers = duplicate(second)
    defer {
        for pointer in firstPointers + secondPointers { pointer?.deallocate() }
    }
    return body(firstPointers.map { $0.map { UnsafePointer($0) } }, secondPointers.map { $0.map { UnsafePointer($0) } })
}
