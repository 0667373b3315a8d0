/// One entry of the question section (RFC 1035 section 4.1.2).
///
/// ```
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// /                     QNAME                     /
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// |                     QTYPE                     |
/// |                     QCLASS                    |
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// ```
public struct Question: Equatable, Sendable {
    /// QNAME
    public var name: DomainName
    /// QTYPE
    public var type: RecordType
    /// QCLASS
    public var dnsClass: DNSClass

    public init(name: DomainName, type: RecordType, dnsClass: DNSClass = .internet) {
        self.name = name
        self.type = type
        self.dnsClass = dnsClass
    }

    public init(from reader: inout WireReader) throws(WireError) {
        name = try reader.readName()
        type = RecordType(try reader.readUInt16())
        dnsClass = DNSClass(try reader.readUInt16())
    }

    public func write(to writer: inout WireWriter) {
        writer.writeName(name)
        writer.writeUInt16(type.rawValue)
        writer.writeUInt16(dnsClass.rawValue)
    }
}
