import Testing
@testable import HTTP1
@Test func placeholderHTTP1() { #expect(Bool(true)) }
