/// Builds a DNS message, compressing names against names already written (RFC 1035 4.1.4).
///
/// The storage is kept between messages by ``reset()``, so a transport that reuses one writer
/// does not allocate per message once its buffers have grown.
public struct WireWriter {
    public private(set) var bytes: [UInt8]
    /// Offsets of names written so far that later names may point into. A pointer has 14
    /// bits, so only offsets below 0x4000 qualify.
    private var nameOffsets: [Int]

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
        nameOffsets = []
        nameOffsets.reserveCapacity(16)
    }

    public var count: Int { bytes.count }

    /// The message so far, without copying it.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try bytes.withUnsafeBytes(body)
    }

    /// Empties the writer, keeping its storage.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        nameOffsets.removeAll(keepingCapacity: true)
    }

    /// Cuts the message back to `count` bytes, forgetting compression targets past it.
    public mutating func truncate(to count: Int) {
        bytes.removeSubrange(count...)
        nameOffsets.removeAll { $0 >= count }
    }

    public mutating func writeUInt8(_ value: UInt8) { bytes.append(value) }

    // One append of the big-endian bytes rather than one per byte: each append checks the
    // storage's uniqueness and capacity, which shows on the packet path.
    public mutating func writeUInt16(_ value: UInt16) {
        Swift.withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeUInt32(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    public mutating func writeBytes(_ source: some Sequence<UInt8>) { bytes.append(contentsOf: source) }

    public mutating func writeBytes(_ source: UnsafeRawBufferPointer) { bytes.append(contentsOf: source) }

    /// Overwrites two bytes already written (a count or RDLENGTH filled in afterwards).
    public mutating func patchUInt16(_ value: UInt16, at offset: Int) {
        bytes[offset] = UInt8(truncatingIfNeeded: value >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
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
        let start = bytes.count
        var index = 0
        while name[index] != 0 {
            if compress, let target = findName(name, suffixAt: index) {
                writePointer(to: target)
                remember(start, wroteLabels: index > 0)
                return
            }
            let length = Int(name[index])
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: name[index...(index + length)]))
            index += 1 + length
        }
        bytes.append(0)
        remember(start, wroteLabels: index > 0)
    }

    private mutating func remember(_ offset: Int, wroteLabels: Bool) {
        if wroteLabels && offset < 0x4000 { nameOffsets.append(offset) }
    }

    /// The offset of a name in the message equal to `name`'s suffix starting at `suffix`.
    private func findName(_ name: UnsafeRawBufferPointer, suffixAt suffix: Int) -> Int? {
        for start in nameOffsets {
            // Every label boundary of a written name (following its pointers) is a candidate.
            var candidate = start
            var hops = 0
            while candidate < bytes.count {
                let length = bytes[candidate]
                if length & 0xC0 == 0xC0 {
                    candidate = Int(length & 0x3F) << 8 | Int(bytes[candidate + 1])
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
            var length = bytes[here]
            while length & 0xC0 == 0xC0 {
                here = Int(length & 0x3F) << 8 | Int(bytes[here + 1])
                hops += 1
                if hops > WireReader.maximumPointerHops { return false }
                length = bytes[here]
            }
            guard length == name[there] else { return false }
            if length == 0 { return true }
            for i in 1...Int(length) where ASCII.lowercase(bytes[here + i]) != ASCII.lowercase(name[there + i]) {
                return false
            }
            here += 1 + Int(length)
            there += 1 + Int(length)
        }
    }
}
