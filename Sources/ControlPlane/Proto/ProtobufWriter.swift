/// The cursor that writes protobuf's binary wire format, as protoc's generated code does:
/// fields in field-number order, proto3 defaults (empty bytes and strings, zero numbers)
/// left out, and a nested message's length (``ProtobufMessage/encodedSize``) written before
/// it.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    static func varintSize(_ value: UInt64) -> Int {
        // One byte per started group of 7 bits; zero takes one byte.
        max(1, (64 - value.leadingZeroBitCount + 6) / 7)
    }

    static func tagSize(_ field: UInt64) -> Int { varintSize(field << 3) }

    mutating func writeVarint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    mutating func writeTag(field: UInt64, wireType: WireType) {
        writeVarint(field << 3 | UInt64(wireType.rawValue))
    }

    /// A `bytes` field holding a UUID; nothing for an empty one.
    mutating func write(field: UInt64, _ id: IdentifierField) {
        guard !id.isEmpty else { return }
        writeTag(field: field, wireType: .lengthDelimited)
        writeVarint(UInt64(id.length))
        if let identifier = id.identifier {
            withUnsafeBytes(of: identifier.high.bigEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: identifier.low.bigEndian) { bytes.append(contentsOf: $0) }
        } else {
            bytes.append(contentsOf: repeatElement(0, count: id.length))
        }
    }

    static func size(field: UInt64, _ id: IdentifierField) -> Int {
        id.isEmpty ? 0 : tagSize(field) + varintSize(UInt64(id.length)) + id.length
    }

    /// A `string` field; nothing for an empty one.
    mutating func write(field: UInt64, _ text: String) {
        guard !text.isEmpty else { return }
        writeTag(field: field, wireType: .lengthDelimited)
        writeVarint(UInt64(text.utf8.count))
        bytes.append(contentsOf: text.utf8)
    }

    static func size(field: UInt64, _ text: String) -> Int {
        let count = text.utf8.count
        return count == 0 ? 0 : tagSize(field) + varintSize(UInt64(count)) + count
    }

    /// A varint field (integers, enums); nothing for zero.
    mutating func write(field: UInt64, _ value: UInt64) {
        guard value != 0 else { return }
        writeTag(field: field, wireType: .varint)
        writeVarint(value)
    }

    static func size(field: UInt64, _ value: UInt64) -> Int {
        value == 0 ? 0 : tagSize(field) + varintSize(value)
    }

    /// A nested message field. Written even when the message is empty: an element of a
    /// repeated field is there whatever its contents.
    mutating func write(field: UInt64, _ message: some ProtobufMessage) {
        writeTag(field: field, wireType: .lengthDelimited)
        writeVarint(UInt64(message.encodedSize))
        message.write(to: &self)
    }

    static func size(field: UInt64, _ message: some ProtobufMessage) -> Int {
        let size = message.encodedSize
        return tagSize(field) + varintSize(UInt64(size)) + size
    }
}

/// A message of the control-plane schema: read from and written to protobuf's wire format.
protocol ProtobufMessage {
    /// Reads fields until the reader's end: unknown fields are skipped, and for a singular
    /// field the last occurrence wins.
    init(from reader: inout ProtobufReader) throws(ProtobufError)
    /// Writes the fields in field-number order, defaults left out.
    func write(to writer: inout ProtobufWriter)
    /// The number of bytes ``write(to:)`` writes.
    var encodedSize: Int { get }
}

extension ProtobufMessage {
    /// Decodes a whole message (without delimited framing).
    init(decoding bytes: [UInt8]) throws(ProtobufError) {
        let result = bytes.withUnsafeBytes { raw in
            Result { () throws(ProtobufError) -> Self in
                var reader = ProtobufReader(raw)
                return try Self(from: &reader)
            }
        }
        self = try result.get()
    }

    /// The message in protobuf's binary format (without delimited framing).
    func encoded() -> [UInt8] {
        var writer = ProtobufWriter(capacity: encodedSize)
        write(to: &writer)
        return writer.bytes
    }
}
