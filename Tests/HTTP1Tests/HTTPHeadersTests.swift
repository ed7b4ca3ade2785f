import HTTP1
import Testing

@Suite struct HTTPHeadersTests {
    let headers: HTTPHeaders = [
        "Host": "collector",
        "Content-Type": " application/json\t",
        "Set-Thing": "a",
        "set-thing": "b",
        "Connection": "keep-alive, Upgrade",
    ]

    @Test func looksUpNamesCaseInsensitivelyAndKeepsTheirSpelling() {
        #expect(headers["content-type"] == "application/json", "surrounding whitespace is removed")
        #expect(headers["HOST"] == "collector")
        #expect(headers["missing"] == nil)
        #expect(headers.values(named: "SET-THING") == ["a", "b"])
        #expect(headers.map(\.name) == ["Host", "Content-Type", "Set-Thing", "set-thing", "Connection"])
        #expect(headers.contains(name: "connection"))
        #expect(!headers.contains(name: "Connectio"))
    }

    @Test(arguments: [("upgrade", true), ("KEEP-ALIVE", true), ("close", false), ("keep", false)])
    func findsTokensInListFields(token: String, isPresent: Bool) {
        #expect(headers.containsToken(token, inFieldNamed: "connection") == isPresent)
    }

    @Test func comparesFieldsByteForByte() {
        #expect(headers == HTTPHeaders(Array(headers)))
        #expect(headers != HTTPHeaders(Array(headers.dropLast())))
        #expect(HTTPHeaders(dictionaryLiteral: ("A", "1")) != HTTPHeaders(dictionaryLiteral: ("a", "1")))
    }
}
