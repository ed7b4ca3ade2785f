import Testing
@testable import CollectorService

/// `--cors-origin` and the answers it gives browsers: preflights from allowed and other origins, the headers of
/// actual answers, and the flag's parsing.
struct CORSPolicyTests {
    private func header(_ response: RESTResponse, _ name: String) -> String? {
        response.headers.first { $0.name == name }?.value
    }

    @Test func theDefaultAllowsNoOtherOrigin() throws {
        let policy = try CORSPolicy(flag: "")
        #expect(policy.allowedOrigins.isEmpty)
        #expect(!policy.allows("https://console.example"))
        #expect(policy.responseHeaders(origin: "https://console.example").isEmpty)
        let refused = policy.preflight(origin: "https://console.example", requestHeaders: "content-type")
        #expect(refused.status == 403)
        let body = String(decoding: refused.body, as: UTF8.self)
        #expect(body.contains("cors_origin_refused"))
        #expect(body.contains("--cors-origin https://console.example"))
    }

    @Test func aPreflightFromAnAllowedOriginEchoesItAndTheRequestedHeaders() throws {
        let policy = try CORSPolicy(flag: "https://console.example, http://localhost:3000")
        let answer = policy.preflight(origin: "http://localhost:3000",
                                      requestHeaders: "Content-Type, X-Grpc-Web,device-id, bad\r\nheader")
        #expect(answer.status == 204 && answer.body.isEmpty)
        #expect(header(answer, "access-control-allow-origin") == "http://localhost:3000")
        #expect(header(answer, "access-control-allow-methods") == "GET, HEAD, POST, OPTIONS")
        #expect(header(answer, "access-control-allow-headers") == "content-type, x-grpc-web, device-id")
        #expect(header(answer, "access-control-max-age") == "7200")
        #expect(header(answer, "vary") == "Origin")
    }

    @Test func actualAnswersToAnAllowedOriginExposeTheGRPCStatus() throws {
        let policy = try CORSPolicy(flag: "*")
        let headers = policy.responseHeaders(origin: "https://anywhere.example")
        #expect(headers.first { $0.name == "access-control-allow-origin" }?.value == "https://anywhere.example")
        let exposed = headers.first { $0.name == "access-control-expose-headers" }?.value ?? ""
        #expect(exposed.contains("grpc-status") && exposed.contains("grpc-message"))
        #expect(policy.responseHeaders(origin: nil).isEmpty)
        var preflight = policy.preflight(origin: "https://a.example", requestHeaders: nil)
        let before = preflight.headers.count
        policy.addResponseHeaders(to: &preflight, origin: "https://a.example")
        #expect(preflight.headers.count == before)  // a preflight answer is not given them twice
    }

    @Test func onlyOPTIONSWithOriginAndRequestMethodIsAPreflight() {
        #expect(CORSPolicy.isPreflight(method: "OPTIONS", origin: "https://a", requestMethod: "POST"))
        #expect(!CORSPolicy.isPreflight(method: "OPTIONS", origin: nil, requestMethod: "POST"))
        #expect(!CORSPolicy.isPreflight(method: "OPTIONS", origin: "https://a", requestMethod: nil))
        #expect(!CORSPolicy.isPreflight(method: "POST", origin: "https://a", requestMethod: "POST"))
    }

    @Test(arguments: ["console.example", "https://console.example/path", "ftp://x", "https://", "https://a b"])
    func aMalformedOriginIsRefusedByName(_ value: String) {
        #expect(throws: CORSPolicyError.self) { try CORSPolicy(flag: value) }
        do { _ = try CORSPolicy(flag: value) } catch { #expect(error.message.contains(value)) }
    }

    @Test func originsCompareWithoutCase() throws {
        let policy = try CORSPolicy(flag: "HTTPS://Console.Example:8443")
        #expect(policy.allows("https://console.example:8443"))
        #expect(!policy.allows("https://console.example"))
    }
}
