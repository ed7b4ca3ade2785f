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

@Suite struct HTTPStatusTests {
    @Test(arguments: [(413, "Content Too Large"), (431, "Request Header Fields Too Large"), (599, "")])
    func knowsStandardReasonPhrases(code: Int, phrase: String) {
        #expect(HTTPStatus(code: code).reasonPhrase == phrase)
    }

    @Test(arguments: [(100, true), (101, true), (204, true), (304, true), (200, false), (404, false)])
    func knowsWhichStatusesHaveNoBody(code: Int, forbidsBody: Bool) {
        #expect(HTTPStatus(code: code).forbidsBody == forbidsBody)
    }
}
