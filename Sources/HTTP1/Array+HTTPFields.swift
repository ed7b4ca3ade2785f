extension [UInt8] {
    /// Appends `name: value` CRLF.
    mutating func appendHTTPField(_ name: String, _ value: String) {
        append(contentsOf: name.utf8)
        append(ASCII.colon)
        append(ASCII.space)
        append(contentsOf: value.utf8)
        append(contentsOf: ASCII.crlf)
    }

    /// Appends every field as stored, except those whose name (compared case-insensitively) is in `skipping`,
    /// which must be lower-case: the serializers own the framing fields.
    mutating func appendHTTPFields(_ headers: HTTPHeaders, skipping: [StaticString]) {
        fields: for position in headers.indices {
            let name = headers.nameBytes(at: position)
            for skipped in skipping where FramingFields.equalsIgnoringCase(name, skipped) { continue fields }
            append(contentsOf: name)
            append(ASCII.colon)
            append(ASCII.space)
            append(contentsOf: headers.valueBytes(at: position))
            append(contentsOf: ASCII.crlf)
        }
    }
}
