import Glibc
import Testing

@testable import HTTP2

/// The allocator behind every nghttp2 session: what goes where, and that blocks keep their bytes when they move.
@Suite struct HTTP2SessionMemoryTests {
    @Test func firstAllocationAndFrameBufferShareOneMapping() throws {
        let memory = HTTP2SessionMemory()
        let state = try #require(memory.allocate(2_919, zeroed: true))
        #expect(UnsafeRawBufferPointer(start: state, count: 2_919).allSatisfy { $0 == 0 })
        let small = try #require(memory.allocate(1_024, zeroed: false))  // HPACK ring: malloc
        let frames = try #require(memory.allocate(16_394, zeroed: false))
        #expect(frames == state + 2_928, "the frame buffer starts right after the 16-aligned first block")
        #expect(memory.mappedBytes == 0, "the shared mapping is not one of the per-block mappings")
        frames.storeBytes(of: 0xA5, as: UInt8.self)
        (frames + 16_393).storeBytes(of: 0x5A, as: UInt8.self)
        memory.release(small)
        memory.release(frames)  // freed with the mapping, later
        memory.release(state)
    }

    @Test func aLargeFirstAllocationIsNotPlaced() throws {
        let memory = HTTP2SessionMemory()
        let big = try #require(memory.allocate(8_000, zeroed: true))
        #expect(memory.mappedBytes == 8_192)
        let frames = try #require(memory.allocate(16_394, zeroed: false))
        #expect(memory.mappedBytes == 8_192 + 20_480, "no shared mapping: the frame buffer gets its own")
        memory.release(frames)
        memory.release(big)
        #expect(memory.mappedBytes == 0)
    }

    @Test func largeBlocksGetZeroedMappingsAndSmallOnesStayWithMalloc() throws {
        let memory = HTTP2SessionMemory()
        _ = memory.allocate(100, zeroed: false)  // the first allocation, placed
        let table = try #require(memory.allocate(4_096, zeroed: true))
        #expect(memory.mappedBytes == 4_096)
        #expect(UnsafeRawBufferPointer(start: table, count: 4_096).allSatisfy { $0 == 0 })
        let small = try #require(memory.allocate(4_095, zeroed: false))
        #expect(memory.mappedBytes == 4_096)
        memory.release(small)
        memory.release(table)
        #expect(memory.mappedBytes == 0)
    }

    @Test(arguments: [(5_000, 9_000), (5_000, 3_000), (100, 20_000)])
    func reallocationKeepsTheBytes(from oldSize: Int, to newSize: Int) throws {
        let memory = HTTP2SessionMemory()
        _ = memory.allocate(64, zeroed: false)
        let block = try #require(memory.allocate(oldSize, zeroed: false))
        for index in 0..<oldSize { (block + index).storeBytes(of: UInt8(truncatingIfNeeded: index), as: UInt8.self) }
        let moved = try #require(memory.reallocate(block, newSize))
        for index in 0..<min(oldSize, newSize) {
            #expect(moved.load(fromByteOffset: index, as: UInt8.self) == UInt8(truncatingIfNeeded: index))
        }
        memory.release(moved)
        #expect(memory.mappedBytes == 0)
    }

    @Test func reallocatingThePlacedBlocksMovesThemOut() throws {
        let memory = HTTP2SessionMemory()
        let state = try #require(memory.allocate(256, zeroed: true))
        state.storeBytes(of: 0x1234_5678, as: UInt32.self)
        let moved = try #require(memory.reallocate(state, 5_000))
        #expect(moved != state)
        #expect(moved.load(as: UInt32.self) == 0x1234_5678)
        memory.release(moved)
    }
}
