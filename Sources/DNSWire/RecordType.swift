/// TYPE and QTYPE values (RFC 1035 section 3.2.2/3.2.3 and the IANA registry). An open
/// registry: unknown values parse and echo back unchanged.
public struct RecordType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let a = RecordType(1)
    public static let ns = RecordType(2)
    public static let cname = RecordType(5)
    public static let soa = RecordType(6)
    public static let ptr = RecordType(12)
    public static let hinfo = RecordType(13)
    public static let mx = RecordType(15)
    public static let txt = RecordType(16)
    public static let aaaa = RecordType(28)
    public static let srv = RecordType(33)
    public static let opt = RecordType(41)
    public static let ds = RecordType(43)
    public static let rrsig = RecordType(46)
    public static let https = RecordType(65)
    /// QTYPEs only.
    public static let ixfr = RecordType(251)
    public static let axfr = RecordType(252)
    public static let mailb = RecordType(253)
    public static let maila = RecordType(254)
    public static let any = RecordType(255)

    public var description: String {
        switch self {
        case .a: "A"
        case .ns: "NS"
        case .cname: "CNAME"
        case .soa: "SOA"
        case .ptr: "PTR"
        case .hinfo: "HINFO"
        case .mx: "MX"
        case .txt: "TXT"
        case .aaaa: "AAAA"
        case .srv: "SRV"
        case .opt: "OPT"
        case .ds: "DS"
        case .rrsig: "RRSIG"
        case .https: "HTTPS"
        case .ixfr: "IXFR"
        case .axfr: "AXFR"
        case .mailb: "MAILB"
        case .maila: "MAILA"
        case .any: "ANY"
        default: "TYPE\(rawValue)"
        }
    }
}

/// CLASS and QCLASS values (RFC 1035 section 3.2.4/3.2.5). An open registry.
public struct DNSClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let internet = DNSClass(1)
    public static let chaos = DNSClass(3)
    public static let hesiod = DNSClass(4)
    public static let none = DNSClass(254)
    public static let any = DNSClass(255)

    public var description: String {
        switch self {
        case .internet: "IN"
        case .chaos: "CH"
        case .hesiod: "HS"
        case .none: "NONE"
        case .any: "ANY"
        default: "CLASS\(rawValue)"
        }
    }
}

/// OPCODE (RFC 1035 section 4.1.1, RFC 6895). An open registry of 4-bit values.
public struct Opcode: RawRepresentable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }
    public init(_ rawValue: UInt8) { self.init(rawValue: rawValue) }

    public static let query = Opcode(0)
    public static let inverseQuery = Opcode(1)
    public static let status = Opcode(2)
    public static let notify = Opcode(4)
    public static let update = Opcode(5)
}

/// RCODE, including the extended values that need EDNS's upper 8 bits (RFC 6891 6.1.3).
public struct RCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let noError = RCode(0)
    public static let formatError = RCode(1)
    public static let serverFailure = RCode(2)
    public static let nameError = RCode(3)
    public static let notImplemented = RCode(4)
    public static let refused = RCode(5)
    /// 16: only expressible with an OPT record (upper 8 bits = 1, header bits = 0).
    public static let badVersion = RCode(16)

    /// The 4 bits that go in the header.
    public var headerBits: UInt8 { UInt8(rawValue & 0x0F) }
    /// The 8 bits that go in the OPT record's TTL field.
    public var extendedBits: UInt8 { UInt8((rawValue >> 4) & 0xFF) }

    public var description: String {
        switch self {
        case .noError: "NOERROR"
        case .formatError: "FORMERR"
        case .serverFailure: "SERVFAIL"
        case .nameError: "NXDOMAIN"
        case .notImplemented: "NOTIMP"
        case .refused: "REFUSED"
        case .badVersion: "BADVERS"
        default: "RCODE\(rawValue)"
        }
    }
}
