/// The protobuf wire types: the low three bits of a tag. 3 and 4 (groups) and 6 and 7
/// (undefined) never get this far: ``ProtobufReader/readTag()`` rejects them.
enum WireType: UInt8 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

/// A field's key: `field_number << 3 | wire_type`, itself a varint.
struct ProtobufTag {
    var field: UInt64
    var wireType: WireType
    /// Where the tag starts, for error messages.
    var offset: Int
}

/// The cursor that reads protobuf's binary wire format
/// (https://protobuf.dev/programming-guides/encoding/): varints, tags, length-delimited
/// fields, and the skipping of unknown fields. The only code of the decoder that touches raw
/// bytes.
///
/// A nested message gets a reader of its own over the same bytes, bounded to the nested
/// message's length, so it can neither read past its end nor make its parent do so; offsets
/// stay those of the whole message. It never traps: every length is checked against the
/// bytes left before it is used.
struct ProtobufReader {
    /// The whole message. Borrowed: the reader must not outlive the `withUnsafeBytes` call
    /// that lent it.
    private let message: UnsafeRawBufferPointer
    private(set) var position: Int
    /// The end of the message being read: the whole message's, or a nested message's.
    private let end: Int

    init(_ message: UnsafeRawBufferPointer) {
        self.init(message: message, position: 0, end: message.count)
    }

    private init(message: UnsafeRawBufferPointer, position: Int, end: Int) {
        self.message = message
        self.position = position
        self.end = end
    }

    var isAtEnd: Bool { position >= end }

    /// A base-128 varint, least significant group first: at most 10 bytes, and the 10th
    /// may only carry the 64th bit. Non-minimal encodings (`80 00` for 0) are valid protobuf
    /// and accepted.
    @inline(__always)
    mutating func readVarint() throws(ProtobufError) -> UInt64 {
        // Most varints here (tags, short lengths, statuses) are one byte: inline that case.
        if position < end, message[position] < 0x80 {
            defer { position += 1 }
            return UInt64(message[position])
        }
        return try readLongVarint()
    }

    private mutating func readLongVarint() throws(ProtobufError) -> UInt64 {
        let start = position
        var value: UInt64 = 0
        var shift: UInt64 = 0
        var index = start
        while true {
            guard index < end else { throw .truncatedVarint(at: start) }
            let byte = message[index]
            index += 1
            // The 10th byte holds bit 63 only; more, or a continuation bit, is too long.
            if shift == 63 && byte > 1 { throw .overlongVarint(at: start) }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                position = index
                return value
            }
            shift += 7
        }
    }

    /// The next tag. Field number 0, field numbers past 2^29 - 1, groups and undefined wire
    /// types are errors whether or not the field is one of the schema's.
    @inline(__always)
    mutating func readTag() throws(ProtobufError) -> ProtobufTag {
        let offset = position
        let key = try readVarint()
        let field = key >> 3
        let type = UInt8(key & 7)
        guard field != 0 else { throw .fieldZero(at: offset) }
        guard field <= 536_870_911 else { throw .fieldNumberTooLarge(at: offset) }
        guard let wireType = WireType(rawValue: type) else {
            if type == 3 || type == 4 { throw .group(wireType: type, field: field, at: offset) }
            throw .unknownWireType(type, field: field, at: offset)
        }
        return ProtobufTag(field: field, wireType: wireType, offset: offset)
    }

    /// A length-delimited field's bytes, as a range of the message, after checking the
    /// length against what is left of the message being read.
    @inline(__always)
    mutating func readLengthDelimited() throws(ProtobufError) -> Range<Int> {
        let offset = position
        let length = try readVarint()
        let available = end - position
        // Compared as UInt64 first: a length near 2^64 must not overflow Int.
        guard length <= UInt64(available) else { throw .lengthPastEnd(at: offset, length: length, available: available) }
        let start = position
        position = start + Int(length)
        return start..<position
    }

    /// A reader for the nested message that is the next length-delimited field.
    mutating func readMessage() throws(ProtobufError) -> ProtobufReader {
        let range = try readLengthDelimited()
        return ProtobufReader(message: message, position: range.lowerBound, end: range.upperBound)
    }

    /// A `string` field: UTF-8 checked, as proto3 requires.
    mutating func readString(_ tag: ProtobufTag) throws(ProtobufError) -> String {
        let range = try readLengthDelimited()
        let bytes = UnsafeRawBufferPointer(rebasing: message[range]).assumingMemoryBound(to: UInt8.self)
        // Names are ASCII in practice: skip the validating initializer for them.
        var isASCII = true
        for byte in bytes where byte >= 0x80 {
            isASCII = false
            break
        }
        if isASCII { return String(decoding: bytes, as: UTF8.self) }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidUTF8(field: tag.field, at: tag.offset) }
        return text
    }

    /// A `bytes` field that should hold a UUID.
    mutating func readIdentifier() throws(ProtobufError) -> IdentifierField {
        let range = try readLengthDelimited()
        return IdentifierField(raw: UnsafeRawBufferPointer(rebasing: message[range]))
    }

    /// Skips the value of a field the schema does not have (or has with another wire type,
    /// which protobuf's own parsers also treat as an unknown field).
    mutating func skipField(_ tag: ProtobufTag) throws(ProtobufError) {
        switch tag.wireType {
        case .varint: _ = try readVarint()
        case .lengthDelimited: _ = try readLengthDelimited()
        case .fixed64: try skipFixed(bytes: 8)
        case .fixed32: try skipFixed(bytes: 4)
        }
    }

    private mutating func skipFixed(bytes count: Int) throws(ProtobufError) {
        guard end - position >= count else { throw .truncatedFixed(bits: count * 8, at: position) }
        position += count
    }
}
