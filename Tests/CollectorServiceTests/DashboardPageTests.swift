import Accounting
import Foundation
import Testing
@testable import CollectorService

/// `GET /` is the dashboard: routed for GET and HEAD only, served as uncached UTF-8 HTML that loads nothing from
/// elsewhere. (What the page requests from the API is checked end to end in Tests/Python/test_dashboard.py.)
struct DashboardPageTests {
    @Test(arguments: ["GET", "HEAD"])
    func rootRoutesToTheDashboard(method: String) throws {
        #expect(try RESTRoute.match(method: method, path: "/") == .dashboard)
    }

    @Test(arguments: ["POST", "PUT", "DELETE"])
    func otherMethodsOnRootAre405WithAllow(method: String) {
        #expect {
            _ = try RESTRoute.match(method: method, path: "/")
        } throws: { error in
            guard let error = error as? RESTError else { return false }
            return error.status == 405 && error.headers.contains { $0.name == "allow" && $0.value == "GET, HEAD" }
        }
    }

    @Test func responseIsUncachedUTF8HTML() {
        let response = DashboardPage.response
        #expect(response.status == 200)
        #expect(response.headers.contains { $0 == ("content-type", "text/html; charset=utf-8") })
        #expect(response.headers.contains { $0 == ("cache-control", "no-cache") })
        #expect(response.body == Array(DashboardPage.html.utf8))
    }

    @Test func pageLoadsNothingFromElsewhere() {
        let html = DashboardPage.html
        #expect(html.hasPrefix("<!doctype html>"))
        for forbidden in ["http://", "https://", "<script src", "@import", "url("] {
            #expect(!html.contains(forbidden), "the page contains \(forbidden)")
        }
    }

    @Test func protocolNamesComeFromTheCollector() {
        let html = DashboardPage.html
        #expect(html.contains("<script id=\"fw-protocols\" type=\"application/json\">\n\(WireProtocol.namesJSON)\n"))
        let outsideTheBlock = html.replacingOccurrences(of: WireProtocol.namesJSON, with: "")
        for wireProtocol in WireProtocol.allCases {
            let quoted = "\"\(wireProtocol.rawValue)\""
            #expect(!outsideTheBlock.contains(quoted), "the page spells \(wireProtocol.rawValue)")
        }
    }

    @Test func theFileHoldsOneProtocolsPlaceholderAndTheServedPageNone() {
        let file = String(decoding: PackageResources.dashboard_html, as: UTF8.self)
        #expect(file.components(separatedBy: DashboardPage.protocolsPlaceholder).count == 2)
        #expect(!DashboardPage.html.contains(DashboardPage.protocolsPlaceholder))
        #expect(file.hasSuffix("</html>\n") && DashboardPage.html.hasSuffix("</html>"))
    }
}
