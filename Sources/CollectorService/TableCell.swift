/// One cell of a list endpoint's row.
enum TableCell {
    case string(String)
    case integer(Int64)
    case number(Double)
    /// A list: a JSON array of strings, or one CSV field with the items joined by `;`.
    case strings([String])
    case null
}

extension TableCell {
    /// This cell as one CSV field.
    var csvField: String {
        guard case .string(let text) = self else { return "" }
        let needsQuotes = text.contains { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }
        return needsQuotes ? "\"" + text.replacingQuotes() + "\"" : text
    }
}

extension String {
    fileprivate func replacingQuotes() -> String {
        var out = ""
        for character in self { out += character == "\"" ? "\"\"" : String(character) }
        return out
    }
}
