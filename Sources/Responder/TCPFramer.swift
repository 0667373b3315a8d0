/// RFC 7766 section 8 / RFC 1035 4.2.2 framing: each message is preceded by its length as two
/// bytes. Bytes arrive in arbitrary pieces: a length prefix may be split across reads, and
/// one read may carry several pipelined messages.
public struct TCPFramer: Sendable {
    /// Bytes of an incomplete message (its prefix included) carried to the next read.
    private var pending: [UInt8] = []

    public init() {}

    /// Bytes held back waiting for the rest of a message.
    public var pendingCount: Int { pending.count }

    /// Adds `bytes` and calls `body` with each complete message, in order.
    public mutating func receive(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        if pending.isEmpty {
            // The usual case: whole messages in one read, parsed in place without copying.
            let used = Self.split(bytes, body)
            if used < bytes.count { pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[used...])) }
            return
        }
        pending.append(contentsOf: bytes)
        let used = pending.withUnsafeBytes { Self.split($0, body) }
        pending.removeFirst(used)
    }

    /// Calls `body` for each complete message in `bytes`; returns the bytes consumed.
    private static func split(_ bytes: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) -> Int {
        var offset = 0
        while bytes.count - offset >= 2 {
            let length = Int(bytes[offset]) << 8 | Int(bytes[offset + 1])
            guard bytes.count - offset - 2 >= length else { break }
            body(UnsafeRawBufferPointer(rebasing: bytes[(offset + 2)..<(offset + 2 + length)]))
            offset += 2 + length
        }
        return offset
    }
}
