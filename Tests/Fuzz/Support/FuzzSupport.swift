// Shared by the four libFuzzer harnesses (Tests/Fuzz/<name>/), compiled into each harness's module together with
// the sources under test (scripts/fuzz.sh). Not part of the SwiftPM package: `swift build` never sees this file.
//
// A harness defines `fuzzOneInput(_:)`. It must check properties that hold for every input, not only "does not
// crash", and call `require` on each: a violated property traps, so libFuzzer records the input as a crash.

/// libFuzzer's entry point: one input per call; the bytes are only valid during the call.
@_cdecl("LLVMFuzzerTestOneInput")
public func llvmFuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOneInput(UnsafeRawBufferPointer(start: size > 0 ? data : nil, count: size))
    return 0
}

/// Traps with a message naming the broken property when `condition` is false.
@inline(__always)
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() { fatalError("fuzz property violated: \(message())") }
}

/// SplitMix64 seeded from the input's bytes: how a harness cuts one input into arrival pieces, the same way every
/// time the same input is run (so a crash replays), and differently for every mutation of it.
struct FuzzRandom {
    private var state: UInt64

    /// A generator seeded with the FNV-1a hash of `bytes` and a per-use `salt`.
    init(seededBy bytes: UnsafeRawBufferPointer, salt: UInt64 = 0) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325 ^ salt
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        state = hash
    }

    /// The next 64 random bits.
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (`bound` > 0).
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
}

/// Ways to cut an input of `count` bytes into arrival pieces, as piece lengths that sum to `count`.
enum ArrivalPattern {
    /// The whole input at once.
    static func whole(_ count: Int) -> [Int] { [count] }

    /// One byte at a time: every position is a boundary.
    static func byteByByte(_ count: Int) -> [Int] { Array(repeating: 1, count: count) }

    /// Two pieces split at a random position (the first may be empty).
    static func twoPieces(_ count: Int, _ random: inout FuzzRandom) -> [Int] {
        let cut = random.below(count + 1)
        return [cut, count - cut]
    }

    /// Random pieces of 1 to 64 bytes, with empty pieces sprinkled in (a read that returned nothing new).
    static func randomPieces(_ count: Int, _ random: inout FuzzRandom) -> [Int] {
        var lengths: [Int] = []
        var left = count
        while left > 0 {
            let length = random.below(8) == 0 ? 0 : min(left, 1 + random.below(64))
            lengths.append(length)
            left -= length
        }
        return lengths
    }
}
