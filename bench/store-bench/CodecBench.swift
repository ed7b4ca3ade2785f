// `store-bench --codec N`: encode and decode rates and size of the chunk codec on one sensor's readings.
import Chunks
import Foundation
import SplitMix
import Store

enum CodecBench {
    /// One JSON line with the figures for chunks of `readingsPerChunk` readings (about 2 M readings in all).
    static func run(readingsPerChunk: Int) -> String {
        var random = SplitMix64(seed: 42)
        let chunks = max(1, 2_000_000 / readingsPerChunk)
        var level = 2154
        var inputs: [(timestamps: [Int64], values: [Double])] = []
        var start: Int64 = 1_732_190_000_000
        for _ in 0..<chunks {
            var values: [Double] = []
            values.reserveCapacity(readingsPerChunk)
            for _ in 0..<readingsPerChunk {
                level += Int(random.next() % 5) - 2
                values.append(Double(level) / 100)
            }
            inputs.append(((0..<readingsPerChunk).map { start + Int64($0) * 1000 }, values))
            start += Int64(readingsPerChunk) * 1000
        }
        let encodeStart = DispatchTime.now().uptimeNanoseconds
        let blobs = inputs.map { ChunkCodec.encode(timestamps: $0.timestamps, values: $0.values) }
        let encodeNs = DispatchTime.now().uptimeNanoseconds - encodeStart
        let decodeStart = DispatchTime.now().uptimeNanoseconds
        var checksum = 0
        for blob in blobs { checksum &+= (try? ChunkCodec.decode(blob))?.values.count ?? 0 }
        let decodeNs = DispatchTime.now().uptimeNanoseconds - decodeStart
        let readings = Double(chunks * readingsPerChunk)
        precondition(checksum == chunks * readingsPerChunk, "a chunk did not decode")
        let bytes = blobs.reduce(0) { $0 + $1.count }
        return """
            {"codec_readings_per_chunk":\(readingsPerChunk),\
            "bytes_per_reading":\(String(format: "%.3f", Double(bytes) / readings)),\
            "encode_readings_per_s":\(Int(readings / (Double(encodeNs) / 1e9))),\
            "decode_readings_per_s":\(Int(readings / (Double(decodeNs) / 1e9)))}
            """
    }
}
