// Where one nghttp2 session's memory comes from.
//
// nghttp2 allocates about 25 KB for every session when it is created: a 16 KB outbound frame buffer, a 4 KB
// zeroed stream map, the session itself (3 KB) and two HPACK rings. An idle device connection writes a few
// hundred bytes of that. With malloc the untouched pages still end up resident, because the allocator writes chunk
// headers around every block and packs other blocks into the same pages (measured: 14.6 KB resident per idle h2c
// connection, 5,000 connections). So allocations of a page or more get an anonymous mapping of their own: the
// kernel backs a page only once it is written, and a fresh mapping reads as zeros, so `calloc` needs no memset and
// a map nobody has inserted into yet costs nothing. Small allocations stay with malloc.
//
// One more placement: nghttp2's first allocation is the session struct (about 3 KB, zeroed), and its first block of
// 16 KB or more is the outbound frame buffer, which every frame sent is written into from its start. Both go into
// one mapping, the buffer right after the struct, so the frames of an idle connection land on the page the session
// state already occupies instead of touching a page of their own. The two blocks are released with the mapping
// when the session's memory goes; should nghttp2 allocate in another order in some version, the placement simply
// does not happen (nothing depends on it but the resident size).
//
// The table of mappings belongs to one session and is used only on the thread that owns the session, like the
// session itself; a session holds a handful of large blocks, so a linear search is enough.

internal import CNghttp2
import Glibc

/// The allocator handed to one nghttp2 session: page-backed mappings for large blocks, malloc for the rest, so an
/// idle connection is charged only for the pages it writes.
final class HTTP2SessionMemory {
    /// Blocks this size or larger get a mapping of their own.
    static let mappingThreshold = 4096
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// The live mappings: start address and mapped length.
    private var mappings: [(address: UnsafeMutableRawPointer, length: Int)] = []
    /// The mapping shared by the session struct and the frame buffer, with the bytes placed in it so far.
    private var sharedPage: (address: UnsafeMutableRawPointer, length: Int, used: Int)?
    /// Whether the next allocation is the session's first.
    private var isFirstAllocation = true
    /// The largest first allocation placed in the shared mapping: leaves most of the page for frame bytes.
    private static let firstAllocationLimit = 3584
    /// The frame buffer's size: nghttp2's 16 KB payload limit plus its 10 bytes of frame header and padding.
    private static let frameBufferMinimum = 16384

    /// Bytes currently mapped for large blocks (for tests and diagnostics).
    var mappedBytes: Int { mappings.reduce(0) { $0 + $1.length } }

    deinit {
        for mapping in mappings { munmap(mapping.address, mapping.length) }
        if let sharedPage { munmap(sharedPage.address, sharedPage.length) }
    }

    /// The `nghttp2_mem` to pass to `nghttp2_session_*_new3`; nghttp2 copies it, and `self` must outlive the session.
    func makeAllocator() -> nghttp2_mem {
        nghttp2_mem(
            mem_user_data: Unmanaged.passUnretained(self).toOpaque(),
            malloc: { size, user in HTTP2SessionMemory.from(user).allocate(size, zeroed: false) },
            free: { pointer, user in HTTP2SessionMemory.from(user).release(pointer) },
            calloc: { count, size, user in
                let (total, overflow) = count.multipliedReportingOverflow(by: size)
                return overflow ? nil : HTTP2SessionMemory.from(user).allocate(total, zeroed: true)
            },
            realloc: { pointer, size, user in HTTP2SessionMemory.from(user).reallocate(pointer, size) })
    }

    private static func from(_ user: UnsafeMutableRawPointer?) -> HTTP2SessionMemory {
        Unmanaged<HTTP2SessionMemory>.fromOpaque(user!).takeUnretainedValue()
    }

    func allocate(_ size: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
        if let placed = placeInSharedPage(size) { return placed }
        guard size >= Self.mappingThreshold else { return zeroed ? calloc(1, max(size, 1)) : malloc(max(size, 1)) }
        let length = (size + Self.pageSize - 1) / Self.pageSize * Self.pageSize
        let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let address, address != MAP_FAILED else { return nil }
        mappings.append((address, length))
        return address
    }

    /// The session struct and then the frame buffer, when they come as expected; nil for everything else.
    private func placeInSharedPage(_ size: Int) -> UnsafeMutableRawPointer? {
        defer { isFirstAllocation = false }
        if isFirstAllocation {
            guard size <= Self.firstAllocationLimit else { return nil }
            let used = (size + 15) & ~15
            let length = (used + Self.frameBufferMinimum + 64 + Self.pageSize - 1) / Self.pageSize * Self.pageSize
            let address = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let address, address != MAP_FAILED else { return nil }
            sharedPage = (address, length, used)
            return address
        }
        guard let page = sharedPage, page.used < Self.pageSize, size >= Self.frameBufferMinimum,
            page.used + size <= page.length
        else { return nil }
        sharedPage!.used = page.length  // full: nothing else goes here
        return page.address + page.used
    }

    /// Whether `pointer` is one of the two blocks in the shared mapping, and its size limit there.
    private func sharedPageCapacity(of pointer: UnsafeMutableRawPointer) -> Int? {
        guard let page = sharedPage, pointer >= page.address, pointer < page.address + page.length else { return nil }
        return page.address + page.length - pointer
    }

    func release(_ pointer: UnsafeMutableRawPointer?) {
        guard let pointer else { return }
        if sharedPageCapacity(of: pointer) != nil { return }  // freed with the mapping
        if let index = mappings.firstIndex(where: { $0.address == pointer }) {
            munmap(pointer, mappings[index].length)
            mappings.swapAt(index, mappings.count - 1)
            mappings.removeLast()
        } else {
            free(pointer)
        }
    }

    /// A block that began small stays with malloc when it grows (its old size is malloc's secret); a mapped block
    /// that grows past its mapping moves to a new one.
    func reallocate(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
        guard let pointer else { return allocate(size, zeroed: false) }
        if let capacity = sharedPageCapacity(of: pointer) {
            guard let moved = allocate(size, zeroed: false) else { return nil }
            moved.copyMemory(from: pointer, byteCount: min(capacity, size))
            return moved
        }
        guard let mapped = mappings.firstIndex(where: { $0.address == pointer }) else { return realloc(pointer, size) }
        let oldLength = mappings[mapped].length
        if size <= oldLength { return pointer }
        guard let moved = allocate(size, zeroed: false) else { return nil }
        moved.copyMemory(from: pointer, byteCount: oldLength)
        release(pointer)
        return moved
    }
}
