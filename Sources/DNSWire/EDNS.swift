/// The EDNS(0) view of an OPT pseudo-record (RFC 6891 section 6.1.3).
///
/// ```
///             +0 (MSB)                            +1 (LSB)
///  +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
///  |         EXTENDED-RCODE        |            VERSION            |   (TTL, high half)
///  +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
///  | DO|                           Z                               |   (TTL, low half)
///  +---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+---+
/// ```
public struct EDNS: Equatable, Sendable {
    /// The requestor's (or responder's) UDP payload size: the OPT record's CLASS.
    public var udpPayloadSize: UInt16
    /// EXTENDED-RCODE: the upper 8 bits of a 12-bit RCODE.
    public var extendedRCode: UInt8
    /// VERSION
    public var version: UInt8
    /// DO: DNSSEC OK (RFC 3225).
    public var dnssecOK: Bool
    public var options: [EDNSOption]

    public init(udpPayloadSize: UInt16, extendedRCode: UInt8 = 0, version: UInt8 = 0, dnssecOK: Bool = false, options: [EDNSOption] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRCode = extendedRCode
        self.version = version
        self.dnssecOK = dnssecOK
        self.options = options
    }

    /// The EDNS fields of an OPT record, or nil for any other record.
    public init?(_ record: ResourceRecord) {
        guard record.type == .opt else { return nil }
        udpPayloadSize = record.dnsClass.rawValue
        extendedRCode = UInt8(record.ttl >> 24)
        version = UInt8((record.ttl >> 16) & 0xFF)
        dnssecOK = record.ttl & 0x8000 != 0
        if case .opt(let options) = record.data { self.options = options } else { self.options = [] }
    }

    public var record: ResourceRecord {
        let ttl = UInt32(extendedRCode) << 24 | UInt32(version) << 16 | (dnssecOK ? 0x8000 : 0)
        return ResourceRecord(name: .root, type: .opt, dnsClass: DNSClass(udpPayloadSize), ttl: ttl, data: .opt(options))
    }
}
