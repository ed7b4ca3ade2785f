// A throwaway PostgreSQL server for the suite: initdb into a fresh temporary directory, pg_ctl start on a free
// port (TCP on 127.0.0.1 and a Unix socket in the same directory), pg_ctl stop and remove the directory afterwards,
// whether the tests passed or not.
//
// PostgreSQL refuses to run as root, and CI runs as root: then the directory is chowned to the `postgres` user
// (Debian's server package creates it) and initdb and pg_ctl run through `runuser -u postgres`. As another user
// they run directly. Authentication is `trust` for the superuser `fleetwire`, so any password is accepted; fsync is
// off and initdb skips its syncs, so the whole start takes about a second.

import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A PostgreSQL server started for the tests and removed after them.
public final class TestPostgresServer: Sendable {
    /// The directory holding `data/` (the cluster), the socket and the logs.
    public let directory: String
    /// The TCP port on 127.0.0.1 (also the socket's number).
    public let port: Int
    let binDirectory: String
    let runAsUser: String?

    /// The superuser initdb creates; `trust` lets it in with any password.
    public static let user = "fleetwire"

    /// A URL for the `postgres` database over TCP.
    public var url: String { "postgresql://\(Self.user)@127.0.0.1:\(port)/postgres" }
    /// A keyword/value string for the same database over the Unix socket in `directory`.
    public var keywordValue: String { "host=\(directory) port=\(port) user=\(Self.user) dbname=postgres" }

    /// The server's binaries (initdb, pg_ctl), from `pg_config --bindir` or the newest /usr/lib/postgresql/*/bin;
    /// nil when the server is not installed (then the suite is skipped).
    static let binDirectory: String? = {
        var candidates: [String] = []
        if let configured = try? run("/bin/sh", ["-c", "pg_config --bindir 2>/dev/null"]).output {
            candidates.append(configured.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            candidates.append("/usr/lib/postgresql/\(version)/bin")
        }
        return candidates.first { directory in
            FileManager.default.isExecutableFile(atPath: directory + "/initdb")
                && FileManager.default.isExecutableFile(atPath: directory + "/pg_ctl")
        }
    }()

    /// Whether the suite can run: the binaries exist, and as root, the `postgres` user and runuser exist too.
    public static var isAvailable: Bool {
        guard binDirectory != nil else { return false }
        if geteuid() != 0 { return true }
        return getpwnam("postgres") != nil && FileManager.default.isExecutableFile(atPath: runuserPath)
    }

    static let runuserPath =
        FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser")
        ? "/usr/sbin/runuser" : "/sbin/runuser"

    /// Creates and starts a server; throws with the server's log when it does not start.
    public static func start() throws -> TestPostgresServer {
        guard let binDirectory else { throw ServerFailure(message: "no PostgreSQL server binaries found") }
        var template = Array("/tmp/fleetwire-pg-XXXXXX".utf8CString)
        guard let created = mkdtemp(&template) else { throw ServerFailure(message: "mkdtemp failed: errno \(errno)") }
        let directory = String(cString: created)
        var runAsUser: String?
        if geteuid() == 0 {
            guard let account = getpwnam("postgres") else {
                throw ServerFailure(message: "running as root and there is no postgres user")
            }
            guard chown(directory, account.pointee.pw_uid, account.pointee.pw_gid) == 0 else {
                throw ServerFailure(message: "chown \(directory) failed: errno \(errno)")
            }
            runAsUser = "postgres"
        }
        // Another process may take the port between the probe and pg_ctl: try a few.
        var lastFailure: ServerFailure?
        for _ in 0..<3 {
            let server = TestPostgresServer(
                directory: directory, port: try freePort(), binDirectory: binDirectory, runAsUser: runAsUser)
            do {
                try server.initializeIfNeeded()
                try server.startServer()
                return server
            } catch let failure as ServerFailure {
                lastFailure = failure
            }
        }
        try? FileManager.default.removeItem(atPath: directory)
        throw lastFailure ?? ServerFailure(message: "the server did not start")
    }

    private init(directory: String, port: Int, binDirectory: String, runAsUser: String?) {
        self.directory = directory
        self.port = port
        self.binDirectory = binDirectory
        self.runAsUser = runAsUser
    }

    private var dataDirectory: String { directory + "/data" }
    private var logPath: String { directory + "/server.log" }

    private func initializeIfNeeded() throws {
        guard !FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") else { return }
        let result = try runAsServerUser(
            "initdb", ["-D", dataDirectory, "-A", "trust", "-U", Self.user, "--no-sync", "-E", "UTF8", "--locale=C"])
        guard result.status == 0 else { throw ServerFailure(message: "initdb failed:\n\(result.output)") }
    }

    private func startServer() throws {
        let options = "-p \(port) -k \(directory) -c listen_addresses=127.0.0.1 -c fsync=off"
        let result = try runAsServerUser(
            "pg_ctl", ["-D", dataDirectory, "-l", logPath, "-o", options, "-w", "-t", "30", "start"])
        guard result.status == 0 else {
            let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no server log)"
            throw ServerFailure(message: "pg_ctl start failed:\n\(result.output)\nserver log:\n\(log)")
        }
    }

    /// Stops the server without removing anything (a fast shutdown: sessions are ended, the data stays), so a test
    /// can take the database away from a running collector and bring it back with `restart()`.
    public func pause() throws {
        let result = try runAsServerUser("pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "stop"])
        guard result.status == 0 else { throw ServerFailure(message: "pg_ctl stop failed:\n\(result.output)") }
    }

    /// Creates an empty database (`createdb`) and returns its URL over TCP: a test's own database on the suite's
    /// server. Names are unique per server: a counter plus the process id.
    public func makeDatabase() throws -> String {
        let name = "fw_\(getpid())_\(Self.databaseCounter.add(1, ordering: .relaxed).newValue)"
        let result = try runAsServerUser(
            "createdb", ["-h", directory, "-p", String(port), "-U", Self.user, name])
        guard result.status == 0 else { throw ServerFailure(message: "createdb failed:\n\(result.output)") }
        return "postgresql://\(Self.user)@127.0.0.1:\(port)/\(name)"
    }

    private static let databaseCounter = Atomic<Int>(0)

    /// Starts the server again on the same directory and port after `pause()`.
    public func restart() throws {
        try startServer()
    }

    /// Stops the server (immediately: nothing here needs a clean shutdown) and removes its directory.
    public func stop() {
        _ = try? runAsServerUser("pg_ctl", ["-D", dataDirectory, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func runAsServerUser(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let path = binDirectory + "/" + tool
        if let runAsUser {
            return try Self.run(Self.runuserPath, ["-u", runAsUser, "--", path] + arguments)
        }
        return try Self.run(path, arguments)
    }

    /// Runs a program to its end with stdout and stderr in one file, through posix_spawn and waitpid. Not
    /// Foundation's Process: on Linux it learns of the child's exit from a socket the child inherits, and the server
    /// pg_ctl starts inherits it too and keeps it open, so waitUntilExit would wait for the server to stop.
    public static func run(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let outputPath = NSTemporaryDirectory() + "fleetwire-pg-\(UUID().uuidString).out"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw ServerFailure(message: "posix_spawn \(path) failed: errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw ServerFailure(message: "waitpid failed: errno \(errno)") }
        }
        // WIFEXITED/WEXITSTATUS are macros: exited normally when the low 7 bits are 0, code in bits 8-15.
        let exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (exitStatus, text)
    }

    /// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, read back, closed).
    public static func freePort() throws -> Int {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { throw ServerFailure(message: "socket failed: errno \(errno)") }
        defer { close(socketFD) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let isBound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(socketFD, socketAddress, length) == 0 && getsockname(socketFD, socketAddress, &length) == 0
            }
        }
        guard isBound else { throw ServerFailure(message: "bind failed: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Why the server could not be set up, with initdb's or pg_ctl's output and the server log.
    struct ServerFailure: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }
}

/// Starts one `TestPostgresServer` around a suite and stops it afterwards, also when a test fails; the tests reach
/// it through `TestPostgresServer.current`.
public struct PostgresServerTrait: SuiteTrait, TestScoping {
    public var isRecursive: Bool { false }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard TestPostgresServer.isAvailable else {
            try await function()
            return
        }
        let server = try TestPostgresServer.start()
        defer { server.stop() }
        try await TestPostgresServer.$current.withValue(server) { try await function() }
    }
}

extension TestPostgresServer {
    /// The server of the running suite.
    @TaskLocal public static var current: TestPostgresServer?

    /// The server of the running suite, or a test failure saying there is none.
    public static func required() throws -> TestPostgresServer {
        try #require(current, "no PostgreSQL server: run the test inside a suite with the .postgresServer trait")
    }
}

extension Trait where Self == PostgresServerTrait {
    /// A throwaway PostgreSQL server for the suite (see `TestPostgresServer`).
    public static var postgresServer: PostgresServerTrait { PostgresServerTrait() }
}
