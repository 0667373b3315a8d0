/// A cursor over a received DNS message.
///
/// Only this type and ``WireWriter`` touch raw message bytes. Every read checks the remaining
/// length and throws ``WireError/truncated(needed:available:at:)`` rather than trapping, so any
/// byte string can be fed to it.
public struct WireReader {
    /// The whole message: compression pointers are offsets into it.
    public let message: UnsafeRawBufferPointer
    /// The offset of the next byte to read.
    public private(set) var position: Int

    /// The most pointers followed while reading one name. Each pointer must point backwards,
    /// but that alone does not stop loops (`01 61 C0 0C`: a label, then a pointer back to it);
    /// this limit does, and bounds the work a hostile message can cause. The 255-byte name
    /// limit stops loops that add labels earlier.
    public static let maximumPointerHops = 64

    public init(_ message: UnsafeRawBufferPointer, position: Int = 0) {
        self.message = message
        self.position = position
    }

    public var remaining: Int { message.count - position }
    public var isAtEnd: Bool { position >= message.count }

    @inline(__always)
    private func require(_ count: Int) throws(WireError) {
        if count > message.count - position {
            throw .truncated(needed: count, available: message.count - position, at: position)
        }
    }

    public mutating func readUInt8() throws(WireError) -> UInt8 {
        try require(1)
        let value = message[position]
        position += 1
        return value
    }

    public mutating func readUInt16() throws(WireError) -> UInt16 {
        try require(2)
        let value = UInt16(message[position]) << 8 | UInt16(message[position + 1])
        position += 2
        return value
    }

    public mutating func readUInt32() throws(WireError) -> UInt32 {
        try require(4)
        var value: UInt32 = 0
        for i in 0..<4 { value = value << 8 | UInt32(message[position + i]) }
        position += 4
        return value
    }

    public mutating func readBytes(_ count: Int) throws(WireError) -> [UInt8] {
        try require(count)
        let bytes = Array(message[position..<position + count])
        position += count
        return bytes
    }

    public mutating func skip(_ count: Int) throws(WireError) {
        try require(count)
        position += count
    }

    /// Reads the (possibly compressed) name at the cursor and writes it, decompressed and with
    /// its letter case unchanged, into `buffer`, which must hold at least 255 bytes.
    ///
    /// Returns the name's wire length (including the final zero byte). The cursor ends after
    /// the name's bytes in the message: after its first pointer, if it has one.
    public mutating func readName(into buffer: UnsafeMutableRawBufferPointer) throws(WireError) -> Int {
        var cursor = position
        var written = 0
        var hops = 0
        var endOfName: Int? = nil  // where the cursor goes once the name is read
        while true {
            guard cursor < message.count else {
                throw .truncated(needed: 1, available: 0, at: cursor)
            }
            let length = message[cursor]
            switch length & 0xC0 {
            case 0x00:
                let labelLength = Int(length)
                if labelLength == 0 {
                    guard written + 1 <= DomainName.maximumWireLength else { throw .nameTooLong(at: position) }
                    buffer[written] = 0
                    written += 1
                    position = endOfName ?? cursor + 1
                    return written
                }
                guard cursor + 1 + labelLength <= message.count else {
                    throw .truncated(needed: 1 + labelLength, available: message.count - cursor, at: cursor)
                }
                // Room must be left for this label and the final zero byte.
                guard written + 1 + labelLength + 1 <= DomainName.maximumWireLength else {
                    throw .nameTooLong(at: position)
                }
                buffer[written] = length
                for i in 0..<labelLength { buffer[written + 1 + i] = message[cursor + 1 + i] }
                written += 1 + labelLength
                cursor += 1 + labelLength
            case 0xC0:
                guard cursor + 2 <= message.count else {
                    throw .truncated(needed: 2, available: message.count - cursor, at: cursor)
                }
                let target = Int(length & 0x3F) << 8 | Int(message[cursor + 1])
                guard target < cursor else { throw .badPointer(target: target, at: cursor) }
                hops += 1
                guard hops <= Self.maximumPointerHops else { throw .tooManyPointers(at: cursor) }
                if endOfName == nil { endOfName = cursor + 2 }
                cursor = target
            default:
                throw .badLabelType(length, at: cursor)
            }
        }
    }

    /// Reads the name at the cursor as a value (decompressed, letter case unchanged).
    public mutating func readName() throws(WireError) -> DomainName {
        var result: Result<DomainName, WireError> = .failure(.nameTooLong(at: position))
        withUnsafeTemporaryAllocation(byteCount: DomainName.maximumWireLength, alignment: 1) { buffer in
            do throws(WireError) {
                let length = try readName(into: buffer)
                result = .success(DomainName(uncheckedWire: Array(buffer[0..<length])))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }
}
