import HTTP1
import Testing

@Suite struct PercentDecodingTests {
    @Test(arguments: [
        ("plain", false, "plain" as String?),
        ("dev%2D1", false, "dev-1"),
        ("caf%C3%A9", false, "café"),
        ("a+b", false, "a+b"),
        ("a+b%2B", true, "a b+"),
        ("%e2%82%ac", false, "€"),
        ("bad%2", false, nil),
        ("bad%zz", false, nil),
        ("%", false, nil),
        ("%C3", false, nil),  // a lone UTF-8 lead byte
    ])
    func decodesEscapesStrictly(text: String, plusAsSpace: Bool, expected: String?) {
        #expect(PercentDecoding.decode(text, plusAsSpace: plusAsSpace) == expected)
    }

    @Test(arguments: [
        ("/v1/devices/dev%2F1/readings", ["v1", "devices", "dev/1", "readings"] as [String]?),
        ("/", []),
        ("", []),
        ("/a//b/", ["a", "", "b", ""]),
        ("/a/%ZZ", nil),
    ])
    func splitsPathsBeforeDecoding(path: String, expected: [String]?) {
        #expect(PercentDecoding.pathSegments(path) == expected)
    }

    @Test func splitsQueriesIntoDecodedPairs() {
        let items = PercentDecoding.queryItems("from=1700000000000&sensor=temp%2Einside&&flag&note=a+b%26c=d")
        #expect(
            items == [
                .init(name: "from", value: "1700000000000"), .init(name: "sensor", value: "temp.inside"),
                .init(name: "flag", value: ""), .init(name: "note", value: "a b&c=d"),
            ])
        #expect(PercentDecoding.queryItems("a=%") == nil)
        #expect(PercentDecoding.queryItems("") == [])
    }
}
