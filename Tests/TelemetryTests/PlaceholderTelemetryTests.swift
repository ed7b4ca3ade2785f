import Testing
@testable import Telemetry
@Test func placeholderTelemetry() { #expect(Bool(true)) }
