import Testing

@testable import Postgres

/// PostgresURL: what it reads from both spellings of a target, and that no spelling of a password survives
/// redaction.
@Suite struct PostgresURLTests {
    @Test(arguments: [
        // URL: the password between ':' and '@' is hidden; everything else stays as written.
        ("postgresql://user:secret@host:5432/db?x=y", "postgresql://user:***@host:5432/db?x=y"),
        ("postgres://user@host/db", "postgres://user@host/db"),
        ("postgresql://user:p%40ss@host/db", "postgresql://user:***@host/db"),
        // An unencoded '@' or '/' in the password: hidden all the same.
        ("postgresql://user:pa@ss@host/db", "postgresql://user:***@host/db"),
        ("postgresql://user:pa/ss@host/db", "postgresql://user:***@host/db"),
        ("postgresql://:secret@host", "postgresql://:***@host"),
        ("POSTGRESQL://user:secret@host", "POSTGRESQL://user:***@host"),
        // The password as a query parameter.
        (
            "postgresql://host/db?user=u&password=secret&sslmode=require",
            "postgresql://host/db?user=u&password=***&sslmode=require"
        ),
        ("postgresql://host/db?application_name=a@b", "postgresql://host/db?application_name=a@b"),
        // Keyword/value: the value's exact text, quotes included, becomes ***.
        ("host=localhost password=secret dbname=fleet", "host=localhost password=*** dbname=fleet"),
        ("host=localhost password = 'se cret\\'x' dbname=fleet", "host=localhost password = *** dbname=fleet"),
        ("password=secret", "password=***"),
        ("host=x password=a password=b", "host=x password=*** password=***"),
        // Malformed text: what could be the password is hidden anyway.
        ("host=x password='unterminated", "host=x password=***"),
        ("password=abc host", "password=*** host"),
        ("host=x password", "host=x ***"),
        // Nothing to hide.
        ("dbname=fleet", "dbname=fleet"),
        ("fleetdb", "fleetdb"),
    ])
    func redactionHidesThePassword(text: String, expected: String) {
        #expect(PostgresURL.redact(text) == expected)
        if let parsed = try? PostgresURL(parsing: text) { #expect(parsed.redacted == expected) }
    }

    @Test func aURLIsReadIntoItsParts() throws {
        let url = try PostgresURL(
            parsing: "postgresql://fleet%20user:secret@db.example:5433/tele%2Fmetry?sslmode=require&x=y")
        #expect(url.form == .url)
        #expect(url.user == "fleet user")
        #expect(url.hasPassword)
        #expect(url.host == "db.example")
        #expect(url.port == "5433")
        #expect(url.database == "tele/metry")
        #expect(url.parameters == ["sslmode": "require", "x": "y"])
    }

    @Test(
        arguments: [
            // text, host, port, database
            ("postgresql://u@[::1]:5433/db", "::1", "5433", "db"),
            ("postgresql://h1:5432,h2:5433/db", "h1,h2", "5432,5433", "db"),
            ("postgresql://%2Ftmp%2Fpg/db", "/tmp/pg", nil, "db"),
            ("postgresql:///db?host=/run/postgresql&port=5434", "/run/postgresql", "5434", "db"),
            ("postgres://host", "host", nil, nil),
        ] as [(String, String?, String?, String?)])
    func hostsPortsAndDatabases(text: String, host: String?, port: String?, database: String?) throws {
        let url = try PostgresURL(parsing: text)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.database == database)
        #expect(!url.hasPassword)
    }

    @Test func aKeywordValueStringIsReadIntoItsParts() throws {
        let url = try PostgresURL(
            parsing: "host=/tmp port = 5432 user=fw dbname='fleet db' password=x sslmode=disable connect_timeout=3")
        #expect(url.form == .keywordValue)
        #expect(url.host == "/tmp")
        #expect(url.port == "5432")
        #expect(url.user == "fw")
        #expect(url.database == "fleet db")
        #expect(url.hasPassword)
        #expect(url.parameters == ["sslmode": "disable", "connect_timeout": "3"])
        #expect(
            url.redacted
                == "host=/tmp port = 5432 user=fw dbname='fleet db' password=*** sslmode=disable connect_timeout=3")
    }

    @Test func aBareNameIsADatabase() throws {
        let url = try PostgresURL(parsing: "fleet")
        #expect(url.database == "fleet")
        #expect(url.host == nil)
    }

    @Test(arguments: [
        ("postgresql://u:secret@h:port/db", "bad port"),
        ("postgresql://u:secret@h/%zz", "bad percent escape"),
        ("host=x password=secret dbname", "missing \"=\""),
        ("host=x password='secret", "unterminated quoted string"),
    ])
    func malformedTextIsRefusedWithoutThePassword(text: String, reason: String) {
        #expect {
            try PostgresURL(parsing: text)
        } throws: { error in
            guard let error = error as? PostgresError else { return false }
            return error.call == "PostgresURL" && error.message.contains(reason) && !error.message.contains("secret")
                && !error.description.contains("secret")
        }
    }

    @Test(arguments: [
        ("postgresql://h/db", true),
        ("postgres://h", true),
        ("host=h dbname=d", true),
        ("fleetwire.db", false),
        ("/var/lib/fleetwire/fw.db", false),
        ("./a=b.db", false),
        ("", false),
    ])
    func postgresTargetsAreToldFromFiles(text: String, isPostgres: Bool) {
        #expect(PostgresURL.looksLikePostgres(text) == isPostgres)
    }
}
