import Testing
@testable import EventIO
@Test func placeholderEventIO() { #expect(Bool(true)) }
