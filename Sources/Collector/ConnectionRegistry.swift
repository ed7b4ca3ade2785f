// The connections of one event loop, so shutdown can reach them. Used only on its loop's thread.

import EventIO

/// Open connections of one loop, weakly held.
final class ConnectionRegistry {
    private struct Entry {
        weak var handler: (any GracefulShutdown)?
        weak var connection: (any ByteTransport)?
    }

    private var entries: [ObjectIdentifier: Entry] = [:]

    /// Remembers a connection's handler until the connection closes.
    func register(_ handler: any GracefulShutdown, _ connection: any ByteTransport) {
        entries[ObjectIdentifier(connection)] = Entry(handler: handler, connection: connection)
    }

    /// Forgets a connection now handled through another transport (a socket whose TLS transport registered).
    func unregister(_ connection: any ByteTransport) {
        entries[ObjectIdentifier(connection)] = nil
    }

    /// Connections still open.
    var openCount: Int {
        entries = entries.filter { $0.value.connection.map { !$0.isClosed } ?? false }
        return entries.count
    }

    /// Asks every open connection to finish and close.
    func beginShutdown() {
        for entry in entries.values where entry.connection.map({ !$0.isClosed }) ?? false {
            entry.handler?.beginShutdown()
        }
    }

    /// Closes every connection still open.
    func closeAll() {
        for entry in entries.values { entry.connection?.close() }
    }
}
