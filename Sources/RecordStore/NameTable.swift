#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open-addressing hash table from lower-cased relative names (the labels in wire form
/// below a zone's apex, without the apex) to a 64-bit value per name, set by its builder.
///
/// Laid out for the packet path, where a lookup in a table of hundreds of thousands of names
/// costs its cache misses, not its instructions:
/// - each slot is 64 bits: 32 bits of the key's hash (a tag) and where its record starts, so
///   probing past other keys reads only the slot array;
/// - a record is the key's length, the key, its value and what the builder put beside it (a
///   payload), end to end in one byte array, so a lookup that found its slot reads one more
///   place in memory and has its answer: ``withEntry(_:_:)``.
///
/// A lookup hashes and compares bytes straight from the packet and builds no string.
struct NameTable: Sendable {
    /// Records, end to end: length (1 byte), key, value (8 bytes, little-endian), payload (as
    /// long as its inserter made it; its own format says where it ends).
    private var records: [UInt8] = []
    /// 0: empty; otherwise tag << 32 | (record offset + 1). The count is a power of two.
    private var slots: [UInt64]
    private var mask: Int
    /// Where each entry's record starts, in insertion order: only while building.
    private var recordStarts: [UInt32] = []
    private(set) var count = 0

    init(expectedCount: Int) {
        var size = 16
        while size < expectedCount * 2 { size <<= 1 }
        slots = Array(repeating: 0, count: size)
        mask = size - 1
        // A record is 9 bytes plus its key (a workspace name's label: typically 10-30 bytes)
        // plus its payload (for a workspace name, its first agent: about 20 bytes).
        records.reserveCapacity(expectedCount * 52)
        recordStarts.reserveCapacity(expectedCount)
    }

    /// FNV-1a, 64-bit: simple, and good enough for label bytes. The low bits pick the slot,
    /// the high 32 are the tag.
    @inline(__always)
    static func hash(_ key: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash ^ (hash >> 29)
    }

    private static let tagMask: UInt64 = 0xFFFF_FFFF_0000_0000

    /// The value stored for `key`, or nil.
    func find(_ key: UnsafeRawBufferPointer) -> UInt64? {
        withEntry(key) { value, _ in value }
    }

    /// Calls `body` with `key`'s value and where its payload starts (valid only in `body`), or
    /// returns nil when `key` is absent: one slot and one record read, nothing copied.
    @inline(__always)
    func withEntry<R>(_ key: UnsafeRawBufferPointer, _ body: (_ value: UInt64, _ payload: UnsafeRawPointer) -> R) -> R? {
        guard let start = findRecord(key, hash: Self.hash(key)) else { return nil }
        return records.withUnsafeBytes { records in
            let valueOffset = start + 1 + Int(records[start])
            let value = UInt64(littleEndian: records.loadUnaligned(fromByteOffset: valueOffset, as: UInt64.self))
            return body(value, records.baseAddress! + valueOffset + 8)
        }
    }

    /// Where `key`'s record starts, or nil.
    @inline(__always)
    private func findRecord(_ key: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        let tag = hash & Self.tagMask
        var slot = Int(truncatingIfNeeded: hash) & mask
        return slots.withUnsafeBufferPointer { slots in
            records.withUnsafeBufferPointer { records in
                while true {
                    let value = slots[slot]
                    if value == 0 { return nil }
                    if value & Self.tagMask == tag {
                        let start = Int(truncatingIfNeeded: value & 0xFFFF_FFFF) - 1
                        let length = Int(records[start])
                        if length == key.count, memcmp(records.baseAddress! + start + 1, key.baseAddress!, length) == 0 {
                            return start
                        }
                    }
                    slot = (slot + 1) & mask
                }
            }
        }
    }

    @inline(__always)
    private func value(at start: Int) -> UInt64 {
        records.withUnsafeBytes { records in
            UInt64(littleEndian: records.loadUnaligned(fromByteOffset: start + 1 + Int(records[start]), as: UInt64.self))
        }
    }

    /// Adds `key` unless present, with `payload` stored after its value; returns its entry
    /// index (insertion order) and whether it was added. Call ``setValue(_:forEntry:)`` only
    /// once every key is in.
    mutating func insert(_ key: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0))
        -> (index: Int, inserted: Bool)
    {
        let hash = Self.hash(key)
        // Until the values are set, a record's value is its entry index.
        if let start = findRecord(key, hash: hash) { return (Int(value(at: start)), false) }
        if (count + 1) * 2 > slots.count { grow() }
        let index = count
        let start = records.count
        precondition(start < Int(UInt32.max) - 1, "name table over 4 GiB")
        recordStarts.append(UInt32(start))
        // Grow by a quarter, not double: a doubling at 100,000 names leaves megabytes of
        // slack, or a copy to drop it.
        let needed = start + 9 + key.count + payload.count
        if needed > records.capacity { records.reserveCapacity(max(needed, records.capacity * 5 / 4)) }
        records.append(UInt8(key.count))
        records.append(contentsOf: key)
        for byte in 0..<8 { records.append(UInt8(truncatingIfNeeded: UInt64(index) >> (8 * byte))) }
        if payload.count > 0 { records.append(contentsOf: payload) }
        place(start, hash: hash)
        count += 1
        return (index, true)
    }

    /// Where entry `index`'s record starts: for ``key(atRecord:)`` once built. Only while
    /// building.
    func recordStart(ofEntry index: Int) -> UInt32 { recordStarts[index] }

    /// The key whose record starts at `start` (as given by ``recordStart(ofEntry:)``): for a
    /// one-label key, the label in wire form.
    func withKey<R>(atRecord start: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        records.withUnsafeBytes { records in body(UnsafeRawBufferPointer(rebasing: records[(start + 1)..<(start + 1 + Int(records[start]))])) }
    }

    /// Sets entry `index`'s value. Only while building.
    mutating func setValue(_ value: UInt64, forEntry index: Int) {
        let start = Int(recordStarts[index])
        let offset = start + 1 + Int(records[start])
        for byte in 0..<8 { records[offset + byte] = UInt8(truncatingIfNeeded: value >> (8 * byte)) }
    }

    private mutating func place(_ start: Int, hash: UInt64) {
        var slot = Int(truncatingIfNeeded: hash) & mask
        while slots[slot] != 0 { slot = (slot + 1) & mask }
        slots[slot] = hash & Self.tagMask | UInt64(start + 1)
    }

    private mutating func grow() {
        slots = Array(repeating: 0, count: slots.count * 2)
        mask = slots.count - 1
        for start in recordStarts {
            let start = Int(start)
            let length = Int(records[start])
            let hash = records.withUnsafeBytes { Self.hash(UnsafeRawBufferPointer(rebasing: $0[(start + 1)..<(start + 1 + length)])) }
            place(start, hash: hash)
        }
    }

    /// Lets `body` change the payload of the entry whose record starts at `start`
    /// (``recordStart(ofEntry:)``) in place: it may not write past the payload it inserted.
    mutating func updatePayload(atRecord start: Int, _ body: (UnsafeMutableRawPointer) -> Void) {
        records.withUnsafeMutableBytes { records in body(records.baseAddress! + start + 1 + Int(records[start]) + 8) }
    }

    /// Drops the building-only index once every key is in (before the rest of a build
    /// allocates: it is part of the peak).
    mutating func finishInserting() {
        recordStarts = []
    }

    /// Drops spare capacity when there is much of it (a copy briefly holds the records twice).
    mutating func compact() {
        recordStarts = []
        if records.capacity - records.count > records.count / 8 { records = Array(records) }
    }
}
