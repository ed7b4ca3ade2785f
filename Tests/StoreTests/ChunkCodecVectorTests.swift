// Golden vectors of the chunk blob (issue 13): fixed readings and the exact bytes ChunkCodec writes for them,
// checked in as Tests/Fixtures/chunk-vectors.json. The file pins the layout: a change to the encoder that changes
// any byte fails here, and the Python suite's independent decoder (Tests/Python/chunks.py, tested by
// test_chunk_codec.py) must read every blob back to the same timestamps and the same value bits.
//
// The file sits in Tests/Fixtures, outside any target, because two test suites in two languages share it; it is
// found from this file's path like Tests/StoreTests/Fixtures. To rewrite it after a deliberate format change:
//   FLEETWIRE_WRITE_CHUNK_VECTORS=1 swift test --filter ChunkCodecVector

import Foundation
import Testing

@testable import Chunks
@testable import Store

@Suite struct ChunkCodecVectorTests {
    /// Tests/Fixtures/chunk-vectors.json, found from this file's path: Tests/StoreTests/ → Tests/.
    static let vectorsURL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/chunk-vectors.json")

    /// How a case's values must be encoded: the case exists to exercise that mode.
    enum ValueMode: Equatable, CustomStringConvertible {
        case empty
        case decimal(exponent: Int32)
        case xor

        var description: String {
            switch self {
            case .empty: "empty"
            case .decimal(let exponent): "decimal 10^\(exponent)"
            case .xor: "XOR"
            }
        }
    }

    /// One golden case: readings and the value mode they must take.
    struct Case: CustomStringConvertible, Sendable {
        let name: String
        let timestamps: [Int64]
        let values: [Double]
        let mode: ValueMode

        var description: String { name }
    }

    static let start: Int64 = 1_732_190_000_000

    static let cases: [Case] = timeCases + decimalCases + xorCases

    static let everySecond: [Int64] = (0..<6).map { start + Int64($0) * 1000 }
    static let everyQuarterSecond: [Int64] = (0..<50).map { start + Int64($0) * 250 }
    static let walk: [Double] = (0..<50).map { (index: Int) -> Double in
        let hundredths: Int = 2149 + index * 7 % 11
        return Double(hundredths) / 100
    }
    static let bitPatterns: [UInt64] = [
        0x3ff0_0000_0000_0001, 0x3ff0_0000_0000_0002, 0x3ff0_00ff_0000_0002, 0xbff0_00ff_0000_0002,
    ]

    /// Regular and irregular timestamps, negative ones, and gaps that overflow Int64.
    static let timeCases: [Case] = [
        Case(name: "empty", timestamps: [], values: [], mode: .empty),
        Case(name: "single reading", timestamps: [start], values: [21.5], mode: .decimal(exponent: -1)),
        Case(
            name: "regular 1 s, decimal 10^-2", timestamps: everySecond,
            values: [21.54, 21.55, 21.5, 21.61, 21.6, 21.6], mode: .decimal(exponent: -2)),
        Case(
            name: "regular run of 50, decimal 10^-2", timestamps: everyQuarterSecond,
            values: walk, mode: .decimal(exponent: -2)),
        Case(
            name: "irregular gaps growing and shrinking, decimal 10^0",
            timestamps: [start, start + 1, start + 1001, start + 1002, start + 61002, start + 61003],
            values: [3, -7, 0, 12, 12, 1_000_000], mode: .decimal(exponent: 0)),
        Case(
            name: "negative timestamps, regular, decimal 10^-1", timestamps: [-3000, -2000, -1000, 0, 1000],
            values: [-1.5, -0.5, 0.5, 1.5, 2.5], mode: .decimal(exponent: -1)),
        Case(
            name: "negative timestamps, irregular, decimal 10^-3", timestamps: [-86_400_000, -1, 0, 7, 1000],
            values: [0.001, 0.002, -0.003, 0, 0.125], mode: .decimal(exponent: -3)),
        Case(
            name: "timestamps at the Int64 extremes: the gaps wrap", timestamps: [.min, 0, .max],
            values: [1, 2, 3], mode: .decimal(exponent: 0)),
        Case(
            name: "two readings a full Int64 range apart", timestamps: [.min, .max], values: [0, -1],
            mode: .decimal(exponent: 0)),
    ]

    /// Decimal grids from the coarsest to the finest, and mantissas on both sides of 2^53.
    static let decimalCases: [Case] = [
        Case(
            name: "decimal 10^6, the coarsest grid", timestamps: [1, 2, 3, 4], values: [1e6, 2e6, -3e6, 0],
            mode: .decimal(exponent: 6)),
        Case(
            name: "decimal 10^2", timestamps: [10, 20, 30], values: [1200, 3400, -500], mode: .decimal(exponent: 2)),
        Case(
            name: "decimal 10^-15, the finest grid", timestamps: [10, 20, 30], values: [1e-15, 2e-15, -123e-15],
            mode: .decimal(exponent: -15)),
        Case(
            name: "mantissa 2^53, the last one on the fast path", timestamps: [1, 2],
            values: [90_071_992_547_409.92, -90_071_992_547_409.92], mode: .decimal(exponent: -2)),
        Case(
            name: "mantissas above 2^53 parse the decimal", timestamps: [1, 2, 3],
            values: [9007.199254740993, 12345.678901234567, -9007.199254740993], mode: .decimal(exponent: -12)),
        Case(
            // 9203092099319039 / 1e13 rounds twice (to a Double, then the quotient) and misses by one ulp.
            name: "a mantissa above 2^53 that one division would round wrongly", timestamps: [1, 2, 3],
            values: [920.3092099319039, -920.3092099319039, 920.3092099319039], mode: .decimal(exponent: -13)),
        Case(
            name: "decimal 10^6 with mantissas near 2^63: the deltas wrap", timestamps: [1, 2, 3],
            values: [5e24, -5e24, 9.1e24], mode: .decimal(exponent: 6)),
    ]

    /// Values on no grid: the XOR mode's control bytes and the special doubles.
    static let xorCases: [Case] = [
        Case(name: "XOR: 0.1 + 0.2", timestamps: [1, 2, 3], values: [0.1 + 0.2, 0.1, 0.2], mode: .xor),
        Case(name: "XOR: -0.0 is on no grid", timestamps: [1, 2, 3], values: [-0.0, 0.0, -0.0], mode: .xor),
        Case(
            name: "XOR: infinities and the largest magnitudes", timestamps: [1, 2, 3, 4, 5, 6],
            values: [.infinity, -.infinity, 1e300, -1e300, .greatestFiniteMagnitude, -.greatestFiniteMagnitude],
            mode: .xor),
        Case(
            name: "XOR: subnormals", timestamps: [1, 2, 3, 4],
            values: [
                .leastNonzeroMagnitude, Double(bitPattern: 0x000f_ffff_ffff_ffff), .leastNormalMagnitude,
                -.leastNonzeroMagnitude,
            ], mode: .xor),
        Case(
            name: "XOR: repeated values take one control byte", timestamps: [1, 2, 3, 4, 5],
            values: [1.0 / 3, 1.0 / 3, 1.0 / 3, 2.0 / 3, 2.0 / 3], mode: .xor),
        Case(
            name: "XOR: changes in the last, the middle and the first byte", timestamps: [1, 2, 3, 4],
            values: bitPatterns.map(Double.init(bitPattern:)), mode: .xor),
        Case(
            name: "XOR: one value off every grid takes the whole chunk", timestamps: [1, 1000, 1001],
            values: [21.5, 21.54, 0.1 + 0.2], mode: .xor),
    ]

    /// A case as it appears in the JSON file.
    struct Vector: Codable, Equatable {
        let name: String
        let timestamps: [Int64]
        let valuesHex: [String]
        let blobHex: String

        enum CodingKeys: String, CodingKey {
            case name, timestamps
            case valuesHex = "values_hex"
            case blobHex = "blob_hex"
        }
    }

    static func makeVector(_ testCase: Case) -> Vector {
        Vector(
            name: testCase.name, timestamps: testCase.timestamps,
            valuesHex: testCase.values.map { hex($0.bitPattern) },
            blobHex: ChunkCodec.encode(timestamps: testCase.timestamps, values: testCase.values).map(hex).joined())
    }

    static func hex(_ bits: UInt64) -> String {
        let digits = String(bits, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    static func hex(_ byte: UInt8) -> String { byte < 16 ? "0" + String(byte, radix: 16) : String(byte, radix: 16) }

    static func bytes(fromHex text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                return nil
            }
            bytes.append(byte)
        }
        return bytes
    }

    /// The file's text: one object per vector, keys in a fixed order, so a regenerated file diffs line by line.
    static func render(_ vectors: [Vector]) -> String {
        let objects = vectors.map { vector in
            precondition(!vector.name.contains("\"") && !vector.name.contains("\\"), "names are plain text")
            return """
                  {
                    "name": "\(vector.name)",
                    "timestamps": [\(vector.timestamps.map(String.init).joined(separator: ", "))],
                    "values_hex": [\(vector.valuesHex.map { "\"\($0)\"" }.joined(separator: ", "))],
                    "blob_hex": "\(vector.blobHex)"
                  }
                """
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]\n"
    }

    @Test(arguments: cases) func eachCaseTakesTheValueModeItIsThereFor(_ testCase: Case) throws {
        let blob = ChunkCodec.encode(timestamps: testCase.timestamps, values: testCase.values)
        let actual: ValueMode
        if testCase.values.isEmpty {
            actual = .empty
        } else if let exponent = ChunkCodec.decimalExponent(of: testCase.values) {
            actual = .decimal(exponent: exponent)
        } else {
            actual = .xor
        }
        #expect(actual == testCase.mode)
        let decoded = try ChunkCodec.decode(blob)
        #expect(decoded.timestamps == testCase.timestamps)
        #expect(decoded.values.map(\.bitPattern) == testCase.values.map(\.bitPattern))
    }

    @Test func theCheckedInVectorsAreTheBytesTheCodecWrites() throws {
        let expected = Self.cases.map(Self.makeVector)
        #expect(Set(expected.map(\.name)).count == expected.count, "vector names are unique")
        if ProcessInfo.processInfo.environment["FLEETWIRE_WRITE_CHUNK_VECTORS"] == "1" {
            try FileManager.default.createDirectory(
                at: Self.vectorsURL.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Self.render(expected).write(to: Self.vectorsURL, atomically: true, encoding: .utf8)
            return
        }
        let stored = try JSONDecoder().decode([Vector].self, from: Data(contentsOf: Self.vectorsURL))
        #expect(
            stored.map(\.name) == expected.map(\.name),
            "the cases differ from \(Self.vectorsURL.path); rewrite it with FLEETWIRE_WRITE_CHUNK_VECTORS=1")
        for (file, code) in zip(stored, expected) {
            #expect(file == code, "\(code.name): the codec no longer writes the checked-in bytes")
            // The checked-in blob decodes to the checked-in readings, whatever the encoder does today.
            let blob = try #require(Self.bytes(fromHex: file.blobHex))
            let decoded = try ChunkCodec.decode(blob)
            #expect(decoded.timestamps == file.timestamps, "\(file.name)")
            #expect(decoded.values.map { Self.hex($0.bitPattern) } == file.valuesHex, "\(file.name)")
        }
    }
}
