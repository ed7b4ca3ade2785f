// The path convention of JSON decode errors, shared by the generic parser and the contract decoders:
// object members are joined with `.` (`readings[3].ts`), array elements are `[index]`, the top level is the
// empty path. Keys the contract does not define are shown as sent, cut to `maxKeyCharacters` characters.

extension DecodeError {
    /// Longest key, in characters, an error path repeats; longer keys are cut and end in `…`.
    static let maxKeyCharacters = 64

    /// A key as it appears in a path.
    static func pathComponent(key: String) -> String {
        key.count <= maxKeyCharacters ? key : String(key.prefix(maxKeyCharacters)) + "…"
    }

    /// `child` appended to `parent` with the right separator.
    static func path(_ parent: String, key: String) -> String {
        parent.isEmpty ? pathComponent(key: key) : parent + "." + pathComponent(key: key)
    }

    /// `parent[index]`.
    static func path(_ parent: String, index: Int) -> String {
        parent + "[\(index)]"
    }

    /// This error, found inside the member `key` of an object: its path is prefixed with the key.
    func inside(key: String) -> DecodeError {
        var copy = self
        let component = Self.pathComponent(key: key)
        copy.path = path.isEmpty ? component : (path.hasPrefix("[") ? component + path : component + "." + path)
        return copy
    }

    /// This error, found inside element `index` of an array: its path is prefixed with `[index]`.
    func inside(index: Int) -> DecodeError {
        var copy = self
        copy.path = path.isEmpty ? "[\(index)]" : (path.hasPrefix("[") ? "[\(index)]" + path : "[\(index)]." + path)
        return copy
    }

    /// This error with `path` filled in when it has none yet (scanner errors know the offset, not the field).
    func located(at path: @autoclosure () -> String) -> DecodeError {
        guard self.path.isEmpty else { return self }
        var copy = self
        copy.path = path()
        return copy
    }
}
