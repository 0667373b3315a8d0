/// Builds a DNS message, compressing names against names already written (RFC 1035 4.1.4).
///
/// The storage is kept between messages by ``reset()``, so a transport that reuses one writer
/// does not allocate per message once its buffers have grown. It is raw memory the writer
/// owns (so the writer cannot be copied): a write is a capacity check and a store, with none
/// of an array append's uniqueness checks, which showed on the per-packet path.
public struct WireWriter: ~Copyable {
    private var storage: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    public private(set) var count = 0
    /// Offsets of names written so far that later names may point into. A pointer has 14
    /// bits, so only offsets below 0x4000 qualify.
    private var nameOffsets: [Int]

    public init(capacity: Int = 512) {
        self.capacity = max(capacity, 64)
        storage = .allocate(capacity: self.capacity)
        nameOffsets = []
        nameOffsets.reserveCapacity(16)
    }

    deinit {
        storage.deallocate()
    }

    /// A copy of the message so far.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: storage, count: count)) }

    /// The message so far, without copying it.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: storage, count: count))
    }

    /// Empties the writer, keeping its storage.
    public mutating func reset() {
        count = 0
        nameOffsets.removeAll(keepingCapacity: true)
    }

    /// Cuts the message back to `count` bytes, forgetting compression targets past it.
    public mutating func truncate(to count: Int) {
        precondition(count >= 0 && count <= self.count, "truncate past the end")
        self.count = count
        nameOffsets.removeAll { $0 >= count }
    }

    /// Room for `extra` more bytes; returns where they go.
    @inline(__always)
    private mutating func reserve(_ extra: Int) -> UnsafeMutablePointer<UInt8> {
        if count + extra > capacity { grow(to: count + extra) }
        let at = storage + count
        count += extra
        return at
    }

    private mutating func grow(to needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        larger.update(from: storage, count: count)
        storage.deallocate()
        storage = larger
        capacity = newCapacity
    }

    public mutating func writeUInt8(_ value: UInt8) { reserve(1).pointee = value }

    public mutating func writeUInt16(_ value: UInt16) {
        UnsafeMutableRawPointer(reserve(2)).storeBytes(of: value.bigEndian, as: UInt16.self)
    }

    public mutating func writeUInt32(_ value: UInt32) {
        UnsafeMutableRawPointer(reserve(4)).storeBytes(of: value.bigEndian, as: UInt32.self)
    }

    public mutating func writeBytes(_ source: some Sequence<UInt8>) {
        for byte in source { writeUInt8(byte) }
    }

    public mutating func writeBytes(_ source: [UInt8]) {
        source.withUnsafeBytes { writeBytes($0) }
    }

    public mutating func writeBytes(_ source: UnsafeRawBufferPointer) {
        guard source.count > 0 else { return }
        UnsafeMutableRawPointer(reserve(source.count)).copyMemory(from: source.baseAddress!, byteCount: source.count)
    }

    /// Overwrites two bytes already written (a count or RDLENGTH filled in afterwards).
    public mutating func patchUInt16(_ value: UInt16, at offset: Int) {
        precondition(offset >= 0 && offset + 2 <= count, "patch past the end")
        UnsafeMutableRawPointer(storage + offset).storeBytes(of: value.bigEndian, as: UInt16.self)
    }

    /// A compression pointer to the name at `offset` (which must be below 0x4000).
    public mutating func writePointer(to offset: Int) {
        precondition(offset < 0x4000, "compression pointers reach 14 bits")
        writeUInt16(0xC000 | UInt16(offset))
    }

    public mutating func writeName(_ name: DomainName, compress: Bool = true) {
        name.wire.withUnsafeBytes { writeName(wire: $0, compress: compress) }
    }

    /// Writes an uncompressed wire-form name, replacing its longest suffix already present in
    /// the message by a pointer when `compress` is set. Letter case is kept; suffixes match
    /// case-insensitively.
    public mutating func writeName(wire name: UnsafeRawBufferPointer, compress: Bool = true) {
        let start = count
        var index = 0
        while name[index] != 0 {
            if compress, let target = findName(name, suffixAt: index) {
                writePointer(to: target)
                remember(start, wroteLabels: index > 0)
                return
            }
            let length = Int(name[index])
            writeBytes(UnsafeRawBufferPointer(rebasing: name[index...(index + length)]))
            index += 1 + length
        }
        writeUInt8(0)
        remember(start, wroteLabels: index > 0)
    }

    private mutating func remember(_ offset: Int, wroteLabels: Bool) {
        if wroteLabels && offset < 0x4000 { nameOffsets.append(offset) }
    }

    /// The byte at `offset` of the message so far.
    @inline(__always)
    private func byte(_ offset: Int) -> UInt8 {
        precondition(offset >= 0 && offset < count, "read past the message")
        return storage[offset]
    }

    /// The offset of a name in the message equal to `name`'s suffix starting at `suffix`.
    private func findName(_ name: UnsafeRawBufferPointer, suffixAt suffix: Int) -> Int? {
        for start in nameOffsets {
            // Every label boundary of a written name (following its pointers) is a candidate.
            var candidate = start
            var hops = 0
            while candidate < count {
                let length = byte(candidate)
                if length & 0xC0 == 0xC0 {
                    candidate = Int(length & 0x3F) << 8 | Int(byte(candidate + 1))
                    hops += 1
                    if hops > WireReader.maximumPointerHops { break }
                    continue
                }
                if length == 0 { break }
                // A label boundary inside a name that started below 0x4000 may lie beyond it.
                if candidate < 0x4000 && matches(name, suffix, at: candidate) { return candidate }
                candidate += 1 + Int(length)
            }
        }
        return nil
    }

    /// Whether the name in the message at `offset` equals `name` from `index` on.
    private func matches(_ name: UnsafeRawBufferPointer, _ index: Int, at offset: Int) -> Bool {
        var here = offset
        var there = index
        var hops = 0
        while true {
            var length = byte(here)
            while length & 0xC0 == 0xC0 {
                here = Int(length & 0x3F) << 8 | Int(byte(here + 1))
                hops += 1
                if hops > WireReader.maximumPointerHops { return false }
                length = byte(here)
            }
            guard length == name[there] else { return false }
            if length == 0 { return true }
            for i in 1...Int(length) where ASCII.lowercase(byte(here + i)) != ASCII.lowercase(name[there + i]) {
                return false
            }
            here += 1 + Int(length)
            there += 1 + Int(length)
        }
    }
}
