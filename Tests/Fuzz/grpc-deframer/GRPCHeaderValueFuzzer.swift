// The gRPC header values a peer controls, checked on the same input as the deframer (they are pure functions of
// the GRPC module without HTTP/2): `grpc-timeout` and `grpc-message`.
//
// - `GRPCTimeout.format` never traps, writes what `parse` reads, and rounds up by less than one unit; a parsed
//   timeout formats and parses back to no less than itself.
// - `GRPCMessageText`: encoding writes only printable ASCII, and decoding gives back the exact text.

/// The input as a `grpc-timeout` and a `grpc-message` value, and its first 8 bytes as a timeout to format.
func fuzzHeaderValues(_ input: UnsafeRawBufferPointer) {
    let text = String(decoding: input, as: UTF8.self)
    if let parsed = GRPCTimeout.parse(text) {
        checkTimeoutFormat(parsed)
    }
    var nanoseconds: UInt64 = 0
    for byte in input.prefix(8) { nanoseconds = nanoseconds << 8 | UInt64(byte) }
    checkTimeoutFormat(nanoseconds)

    let encoded = GRPCMessageText.encode(text)
    require(encoded.utf8.allSatisfy { $0 >= 0x20 && $0 <= 0x7E }, "grpc-message encoding is not printable ASCII")
    require(GRPCMessageText.decode(encoded) == text, "grpc-message round trip changed the text")
}

/// `format` then `parse` gives the timeout rounded up by less than the unit `format` chose (the 99999999H ceiling,
/// which `parse` saturates to `UInt64.max`, aside).
func checkTimeoutFormat(_ nanoseconds: UInt64) {
    let formatted = GRPCTimeout.format(nanoseconds: nanoseconds)
    guard let back = GRPCTimeout.parse(formatted), let unit = GRPCTimeout.parse("1" + String(formatted.last!)) else {
        return require(false, "format wrote \(formatted), which parse refuses")
    }
    require(back >= max(nanoseconds, 1), "\(nanoseconds) ns formatted as \(formatted), read back as \(back)")
    require(back == UInt64.max || back - max(nanoseconds, 1) < unit, "\(nanoseconds) ns rounded to \(formatted)")
}
