import HTTP1
import Testing

@Suite struct HTTPVersionTests {
    @Test(arguments: [
        (HTTPVersion.http1_0, "HTTP/1.0", false),
        (HTTPVersion.http1_1, "HTTP/1.1", true),
        (HTTPVersion(major: 1, minor: 2), "HTTP/1.2", true),
    ])
    func describesItselfAndKnowsItsDefaults(version: HTTPVersion, text: String, isAtLeast1_1: Bool) {
        #expect(version.description == text)
        #expect(version.isAtLeastHTTP1_1 == isAtLeast1_1)
    }
}
