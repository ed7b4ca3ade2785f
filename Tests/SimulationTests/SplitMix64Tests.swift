import Simulation
import SplitMix
import Testing

/// The generator: the reference outputs, sane distributions, derived streams that differ.
@Suite struct SplitMix64Tests {
    @Test func matchesTheReferenceImplementation() {
        // Outputs of the reference C code (Vigna's splitmix64.c) for seeds 0 and 42.
        var zero = SplitMix64(seed: 0)
        #expect(
            [zero.next(), zero.next(), zero.next()] == [
                0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4,
                0x06C4_5D18_8009_454F,
            ])
        var fortyTwo = SplitMix64(seed: 42)
        #expect([fortyTwo.next(), fortyTwo.next()] == [0xBDD7_3226_2FEB_6E95, 0x28EF_E333_B266_F103])
    }

    @Test func unitValuesAreUniformOnTheHalfOpenInterval() {
        var random = SplitMix64(seed: 1)
        var buckets = [Int](repeating: 0, count: 10)
        for _ in 0..<100_000 {
            let u = random.nextUnit()
            #expect(u >= 0 && u < 1)
            buckets[Int(u * 10)] += 1
        }
        #expect(buckets.allSatisfy { abs($0 - 10_000) < 500 })
    }

    @Test func gaussianNoiseHasUnitVarianceAndBoundedTails() {
        var random = SplitMix64(seed: 2)
        var sum = 0.0
        var squares = 0.0
        let n = 200_000
        for _ in 0..<n {
            let x = random.nextGaussian()
            #expect(abs(x) <= 2 * 3.0.squareRoot())
            sum += x
            squares += x * x
        }
        let mean = sum / Double(n)
        #expect(abs(mean) < 0.01)
        #expect(abs(squares / Double(n) - mean * mean - 1) < 0.02)
    }

    @Test func derivedSeedsAndHashesSeparateNeighbours() {
        #expect(SplitMix64.mix(42, 1) != SplitMix64.mix(42, 2))
        #expect(SplitMix64.mix(1, 42) != SplitMix64.mix(2, 42))
        #expect(SplitMix64.hash("dev-00001") != SplitMix64.hash("dev-00002"))
        #expect(SplitMix64.hash("dev-00001") == SplitMix64.hash("dev-00001"))
    }
}
