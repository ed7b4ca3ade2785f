/// The representation a list request asked for.
enum ResponseFormat {
    case json
    case csv

    /// `?format=json|csv`, else `Accept: text/csv`; another format is a 400 naming the parameter.
init(_ request: RESTRequest) throws(RESTError) {
        switch request.queryValue("format") {
        case "csv": self = .csv
        case "json": self = .json
        case nil, "":
            self = (request.header("accept") ?? "").contains("text/csv") ? .csv : .json
        case let other?:
            throw .badRequest("query parameter format must be json or csv, got \"\(other)\"")
        }
    }

    /// A CSV response for `table`.
    static func csvResponse(_ table: ResponseTable) -> RESTResponse {
        RESTResponse(status: 200, headers: [("content-type", "text/csv; charset=utf-8")], body: table.csv())
    }
}
