import Postgres
import Testing

@testable import PostgresStore

/// Array parameters in PostgreSQL's text form (PostgresArrayText.swift).
@Suite struct PostgresArrayTextTests {
    @Test func integersWithNull() {
        #expect(PostgresArrayText.integers([1, -2, Int64.max]) == .text("{1,-2,9223372036854775807}"))
        #expect(PostgresArrayText.integers([1, nil] as [Int64?]) == .text("{1,NULL}"))
        #expect(PostgresArrayText.integers([] as [Int64]) == .text("{}"))
    }

    @Test func doublesSpellNonFiniteValuesAndNaNAsNull() {
        #expect(
            PostgresArrayText.doubles([1.5, -0.25, .infinity, -.infinity, .nan, 1e-5])
                == .text("{1.5,-0.25,Infinity,-Infinity,NULL,1e-05}"))
    }

    @Test func textsAreQuotedWithQuotesAndBackslashesEscaped() {
        #expect(PostgresArrayText.texts(["a", "b\"c", "d\\e", "NULL", ""]) == .text(#"{"a","b\"c","d\\e","NULL",""}"#))
    }

    @Test func byteasAreHexInQuotes() {
        #expect(PostgresArrayText.byteas([[0x00, 0xAB], []]) == .text(#"{"\\x00ab","\\x"}"#))
    }

    @Test func textsReadBackAsTheyWereWritten() throws {
        let values = ["a", "", "null", "NULL", "a,b", #"c"d"#, #"e\f"#, "{g}", " h "]
        guard case .text(let text) = PostgresArrayText.texts(values) else {
            Issue.record("texts is not a text parameter")
            return
        }
        #expect(try PostgresArrayText.parseTexts(text, operation: "t") == values)
    }
}
