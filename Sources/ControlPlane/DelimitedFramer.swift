/// Protobuf's "delimited" framing, both directions: each message is preceded by its length as
/// a base-128 varint. Sans-I/O: bytes in, whole messages out.
public struct DelimitedFramer: Sendable {
    /// Messages longer than this are refused (the connection is then useless: its framing
    /// cannot be trusted past the bad length).
    public let maximumMessageLength: Int
    private var buffer: [UInt8] = []
    private var consumed = 0

    public enum FramingError: Error, Equatable, CustomStringConvertible {
        case tooLong(length: UInt64, maximum: Int)
        case badVarint

        public var description: String {
            switch self {
            case .tooLong(let length, let maximum): "message of \(length) bytes is over the \(maximum)-byte cap"
            case .badVarint: "length prefix is not a valid varint"
            }
        }
    }

    public init(maximumMessageLength: Int = 64 << 20) {
        self.maximumMessageLength = maximumMessageLength
    }

    public var bufferedCount: Int { buffer.count - consumed }

    public mutating func append(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, nil when more bytes are needed.
    public mutating func nextMessage() throws(FramingError) -> [UInt8]? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var index = consumed
        while true {
            guard index < buffer.count else { return nil }
            let byte = buffer[index]
            index += 1
            guard shift < 64 else { throw .badVarint }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
            guard index - consumed <= 10 else { throw .badVarint }
        }
        guard value <= UInt64(maximumMessageLength) else { throw .tooLong(length: value, maximum: maximumMessageLength) }
        let length = Int(value)
        guard buffer.count - index >= length else { return nil }
        let message = Array(buffer[index..<(index + length)])
        consumed = index + length
        // Compact now and then rather than shifting bytes on every message.
        if consumed == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            consumed = 0
        } else if consumed > 1 << 20 {
            buffer.removeFirst(consumed)
            consumed = 0
        }
        return message
    }

    /// `message` with its varint length prefix.
    public static func frame(_ message: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var value = UInt64(message.count)
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out + message
    }
}
