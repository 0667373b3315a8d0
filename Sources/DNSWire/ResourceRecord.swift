/// A resource record (RFC 1035 section 4.1.3).
///
/// ```
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// /                      NAME                     /
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// |                      TYPE                     |
/// |                     CLASS                     |
/// |                      TTL                      |
/// |                                               |
/// |                   RDLENGTH                    |
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--|
/// /                     RDATA                     /
/// +--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+--+
/// ```
/// For OPT (RFC 6891 6.1.2) CLASS is the sender's UDP payload size and TTL holds the
/// extended RCODE, version and flags: see ``EDNS``.
public struct ResourceRecord: Equatable, Sendable {
    /// NAME
    public var name: DomainName
    /// TYPE
    public var type: RecordType
    /// CLASS (for OPT: the UDP payload size)
    public var dnsClass: DNSClass
    /// TTL (for OPT: extended RCODE, version, flags)
    public var ttl: UInt32
    /// RDATA, decoded where this module knows the type.
    public var data: RecordData

    public init(name: DomainName, type: RecordType, dnsClass: DNSClass = .internet, ttl: UInt32, data: RecordData) {
        self.name = name
        self.type = type
        self.dnsClass = dnsClass
        self.ttl = ttl
        self.data = data
    }

    public init(from reader: inout WireReader) throws(WireError) {
        name = try reader.readName()
        type = RecordType(try reader.readUInt16())
        dnsClass = DNSClass(try reader.readUInt16())
        ttl = try reader.readUInt32()
        let length = Int(try reader.readUInt16())
        data = try RecordData(type: type, length: length, from: &reader)
    }

    public func write(to writer: inout WireWriter) {
        writer.writeName(name)
        writer.writeUInt16(type.rawValue)
        writer.writeUInt16(dnsClass.rawValue)
        writer.writeUInt32(ttl)
        let lengthOffset = writer.count
        writer.writeUInt16(0)
        data.write(to: &writer)
        writer.patchUInt16(UInt16(writer.count - lengthOffset - 2), at: lengthOffset)
    }
}

/// An EDNS option (RFC 6891 section 6.1.2): code, then length-prefixed data.
public struct EDNSOption: Equatable, Sendable {
    public var code: UInt16
    public var data: [UInt8]
    public init(code: UInt16, data: [UInt8]) {
        self.code = code
        self.data = data
    }
}

/// The SOA RDATA (RFC 1035 section 3.3.13).
public struct SOAData: Equatable, Sendable {
    /// MNAME
    public var primary: DomainName
    /// RNAME
    public var mailbox: DomainName
    public var serial: UInt32
    public var refresh: UInt32
    public var retry: UInt32
    public var expire: UInt32
    /// MINIMUM: the negative-caching TTL (RFC 2308).
    public var minimum: UInt32

    public init(
        primary: DomainName, mailbox: DomainName, serial: UInt32, refresh: UInt32, retry: UInt32,
        expire: UInt32, minimum: UInt32
    ) {
        self.primary = primary
        self.mailbox = mailbox
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

/// RDATA for the types this server reads or writes; anything else is kept as bytes.
public enum RecordData: Equatable, Sendable {
    /// A: 4 bytes.
    case a([UInt8])
    /// AAAA: 16 bytes (RFC 3596).
    case aaaa([UInt8])
    case ns(DomainName)
    case ptr(DomainName)
    case cname(DomainName)
    case soa(SOAData)
    /// HINFO: two character-strings (RFC 1035 3.3.2; RFC 8482 uses it for ANY).
    case hinfo(cpu: [UInt8], os: [UInt8])
    case opt([EDNSOption])
    case unknown([UInt8])

    init(type: RecordType, length: Int, from reader: inout WireReader) throws(WireError) {
        let start = reader.position
        guard length <= reader.remaining else {
            throw .truncated(needed: length, available: reader.remaining, at: start)
        }
        switch type {
        case .a:
            guard length == 4 else { throw .badRecordData(type: type, at: start) }
            self = .a(try reader.readBytes(4))
        case .aaaa:
            guard length == 16 else { throw .badRecordData(type: type, at: start) }
            self = .aaaa(try reader.readBytes(16))
        case .ns, .ptr, .cname:
            let name = try reader.readName()
            self = type == .ns ? .ns(name) : type == .ptr ? .ptr(name) : .cname(name)
        case .soa:
            let primary = try reader.readName()
            let mailbox = try reader.readName()
            self = .soa(
                SOAData(
                    primary: primary, mailbox: mailbox, serial: try reader.readUInt32(),
                    refresh: try reader.readUInt32(), retry: try reader.readUInt32(),
                    expire: try reader.readUInt32(), minimum: try reader.readUInt32()))
        case .hinfo:
            let cpuLength = Int(try reader.readUInt8())
            let cpu = try reader.readBytes(cpuLength)
            let osLength = Int(try reader.readUInt8())
            let os = try reader.readBytes(osLength)
            self = .hinfo(cpu: cpu, os: os)
        case .opt:
            var options: [EDNSOption] = []
            while reader.position < start + length {
                let code = try reader.readUInt16()
                let optionLength = Int(try reader.readUInt16())
                guard reader.position + optionLength <= start + length else {
                    throw .badRecordData(type: type, at: start)
                }
                options.append(EDNSOption(code: code, data: try reader.readBytes(optionLength)))
            }
            self = .opt(options)
        default:
            self = .unknown(try reader.readBytes(length))
        }
        guard reader.position == start + length else { throw .badRecordData(type: type, at: start) }
    }

    func write(to writer: inout WireWriter) {
        switch self {
        case .a(let bytes), .aaaa(let bytes), .unknown(let bytes):
            writer.writeBytes(bytes)
        case .ns(let name), .ptr(let name), .cname(let name):
            writer.writeName(name)
        case .soa(let soa):
            writer.writeName(soa.primary)
            writer.writeName(soa.mailbox)
            writer.writeUInt32(soa.serial)
            writer.writeUInt32(soa.refresh)
            writer.writeUInt32(soa.retry)
            writer.writeUInt32(soa.expire)
            writer.writeUInt32(soa.minimum)
        case .hinfo(let cpu, let os):
            writer.writeUInt8(UInt8(cpu.count))
            writer.writeBytes(cpu)
            writer.writeUInt8(UInt8(os.count))
            writer.writeBytes(os)
        case .opt(let options):
            for option in options {
                writer.writeUInt16(option.code)
                writer.writeUInt16(UInt16(option.data.count))
                writer.writeBytes(option.data)
            }
        }
    }
}
