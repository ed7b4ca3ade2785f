/// Where the service layer reads `ServerFigures` when a report is asked for: implemented by the server layer
/// (over its listener's byte totals, connection limiter and request buffer budget), and by tests with fixed values.
package protocol ServerFigureSource: Sendable {
    /// The figures now; called from any thread.
    func serverFigures() -> ServerFigures
}
