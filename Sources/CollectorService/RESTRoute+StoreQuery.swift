extension RESTRoute {
    /// True for the endpoints that query the store: they run on the store's read threads, never on a loop.
    package var isStoreQuery: Bool {
        switch self {
        case .devices, .device, .readings, .series, .bandwidthHistory: true
        default: false
        }
    }
}
