/// The fixed 12-byte message header (RFC 1035 section 4.1.1).
///
/// ```
///                                 1  1  1  1  1  1
///   0  1  2  3  4  5  6  7  8  9  0  1  2  3  4  5
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// |                      ID                       |
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// |QR|   Opcode  |AA|TC|RD|RA| Z|AD|CD|   RCODE   |
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// |                    QDCOUNT                    |
/// |                    ANCOUNT                    |
/// |                    NSCOUNT                    |
/// |                    ARCOUNT                    |
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// ```
/// AD and CD are RFC 4035's; Z must be zero.
public struct Header: Equatable, Sendable {
    public static let length = 12

    /// ID
    public var id: UInt16
    /// The second 16-bit word: QR, Opcode, AA, TC, RD, RA, Z, AD, CD, RCODE.
    public var flags: UInt16
    /// QDCOUNT
    public var questionCount: UInt16
    /// ANCOUNT
    public var answerCount: UInt16
    /// NSCOUNT
    public var authorityCount: UInt16
    /// ARCOUNT
    public var additionalCount: UInt16

    public init(
        id: UInt16 = 0, flags: UInt16 = 0, questionCount: UInt16 = 0, answerCount: UInt16 = 0,
        authorityCount: UInt16 = 0, additionalCount: UInt16 = 0
    ) {
        self.id = id
        self.flags = flags
        self.questionCount = questionCount
        self.answerCount = answerCount
        self.authorityCount = authorityCount
        self.additionalCount = additionalCount
    }

    public enum Bit {
        /// QR: this message is a response.
        public static let response: UInt16 = 0x8000
        /// AA: authoritative answer.
        public static let authoritative: UInt16 = 0x0400
        /// TC: truncated.
        public static let truncated: UInt16 = 0x0200
        /// RD: recursion desired.
        public static let recursionDesired: UInt16 = 0x0100
        /// RA: recursion available.
        public static let recursionAvailable: UInt16 = 0x0080
        /// Z: reserved.
        public static let zero: UInt16 = 0x0040
        /// AD: authentic data (RFC 4035).
        public static let authenticData: UInt16 = 0x0020
        /// CD: checking disabled (RFC 4035).
        public static let checkingDisabled: UInt16 = 0x0010
    }

    private func bit(_ mask: UInt16) -> Bool { flags & mask != 0 }
    private mutating func set(_ mask: UInt16, _ on: Bool) { flags = on ? flags | mask : flags & ~mask }

    /// QR
    public var isResponse: Bool {
        get { bit(Bit.response) }
        set { set(Bit.response, newValue) }
    }
    /// AA
    public var isAuthoritative: Bool {
        get { bit(Bit.authoritative) }
        set { set(Bit.authoritative, newValue) }
    }
    /// TC
    public var isTruncated: Bool {
        get { bit(Bit.truncated) }
        set { set(Bit.truncated, newValue) }
    }
    /// RD
    public var recursionDesired: Bool {
        get { bit(Bit.recursionDesired) }
        set { set(Bit.recursionDesired, newValue) }
    }
    /// RA
    public var recursionAvailable: Bool {
        get { bit(Bit.recursionAvailable) }
        set { set(Bit.recursionAvailable, newValue) }
    }
    /// AD
    public var authenticData: Bool {
        get { bit(Bit.authenticData) }
        set { set(Bit.authenticData, newValue) }
    }
    /// CD
    public var checkingDisabled: Bool {
        get { bit(Bit.checkingDisabled) }
        set { set(Bit.checkingDisabled, newValue) }
    }
    /// Z
    public var zeroBit: Bool {
        get { bit(Bit.zero) }
        set { set(Bit.zero, newValue) }
    }

    /// OPCODE
    public var opcode: Opcode {
        get { Opcode(UInt8((flags >> 11) & 0x0F)) }
        set { flags = (flags & ~0x7800) | (UInt16(newValue.rawValue) << 11) }
    }

    /// RCODE: the header's 4 bits only (see ``RCode`` for the extended ones).
    public var rcodeBits: UInt8 {
        get { UInt8(flags & 0x000F) }
        set { flags = (flags & ~0x000F) | UInt16(newValue & 0x0F) }
    }

    public init(from reader: inout WireReader) throws(WireError) {
        id = try reader.readUInt16()
        flags = try reader.readUInt16()
        questionCount = try reader.readUInt16()
        answerCount = try reader.readUInt16()
        authorityCount = try reader.readUInt16()
        additionalCount = try reader.readUInt16()
    }

    public func write(to writer: inout WireWriter) {
        writer.writeUInt16(id)
        writer.writeUInt16(flags)
        writer.writeUInt16(questionCount)
        writer.writeUInt16(answerCount)
        writer.writeUInt16(authorityCount)
        writer.writeUInt16(additionalCount)
    }
}
