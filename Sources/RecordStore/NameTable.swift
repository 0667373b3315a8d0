#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open-addressing hash table from lower-cased relative names (the labels in wire form
/// below a zone's apex, without the apex) to entry indices.
///
/// Keys live end to end in one byte array and slots are 32-bit indices, so a table of
/// hundreds of thousands of names is a handful of allocations, and a lookup hashes and
/// compares bytes straight from the packet without building a string.
struct NameTable: Sendable {
    /// Keys, end to end.
    private(set) var keyBytes: [UInt8] = []
    private(set) var keyStarts: [UInt32] = []
    private(set) var keyLengths: [UInt8] = []
    /// 0: empty; otherwise entry index + 1. The count is a power of two.
    private var slots: [UInt32]
    private var mask: Int

    init(expectedCount: Int) {
        var size = 16
        while size < expectedCount * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
        keyStarts.reserveCapacity(expectedCount)
        keyLengths.reserveCapacity(expectedCount)
    }

    var count: Int { keyStarts.count }

    /// FNV-1a, 64-bit: simple, and good enough for label bytes.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int(truncatingIfNeeded: hash ^ (hash >> 29))
    }

    /// The index of `key`'s entry, or nil.
    func find(_ key: UnsafeRawBufferPointer) -> Int? {
        var slot = Self.hash(key) & mask
        return slots.withUnsafeBufferPointer { slots in
            keyBytes.withUnsafeBufferPointer { keyBytes in
                while true {
                    let value = slots[slot]
                    if value == 0 { return nil }
                    let index = Int(value) - 1
                    let length = Int(keyLengths[index])
                    if length == key.count {
                        let start = Int(keyStarts[index])
                        if memcmp(keyBytes.baseAddress! + start, key.baseAddress!, length) == 0 { return index }
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    /// Adds `key` unless present; returns its entry index and whether it was added.
    mutating func insert(_ key: UnsafeRawBufferPointer) -> (index: Int, inserted: Bool) {
        if let index = find(key) { return (index, false) }
        if (count + 1) * 2 > slots.count { grow() }
        let index = count
        keyStarts.append(UInt32(keyBytes.count))
        keyLengths.append(UInt8(key.count))
        keyBytes.append(contentsOf: key)
        place(index, hash: Self.hash(key))
        return (index, true)
    }

    private mutating func place(_ index: Int, hash: Int) {
        var slot = hash & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = UInt32(index + 1)
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for index in 0..<count {
            let start = Int(keyStarts[index])
            let length = Int(keyLengths[index])
            let hash = keyBytes.withUnsafeBytes { Self.hash(UnsafeRawBufferPointer(rebasing: $0[start..<start + length])) }
            place(index, hash: hash)
        }
    }

    /// Drops spare capacity once building is done.
    mutating func compact() {
        keyBytes = Array(keyBytes)
        keyStarts = Array(keyStarts)
        keyLengths = Array(keyLengths)
    }
}
