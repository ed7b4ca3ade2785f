import HTTP1
import Testing

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
