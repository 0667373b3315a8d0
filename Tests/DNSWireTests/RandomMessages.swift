import DNSWire
import TestSupport

/// Random, valid messages for the round-trip and mutation properties.
///
/// Compression matches suffixes case-insensitively and keeps the case written first (see
/// `NameCompressionTests`), so two names whose shared suffix differs only in letter case do not
/// come back byte for byte. Names are therefore built from a vocabulary in which every label has
/// one fixed mixed-case spelling, plus random binary labels without upper-case ASCII letters.
struct RandomMessages {
    var generator: SeededGenerator

    init(seed: UInt64) {
        generator = SeededGenerator(seed: seed)
    }

    static let vocabulary = [
        "myws", "Coder", "WWW", "api", "Dev-Box", "xn--bcher-kva", "_tcp", "_Service", "a", "Z9",
        "MiXeD", "ns1", "HostMaster", "in-addr", "arpa", "ip6", "127", "0", "1",
    ]

    /// Suffixes that many names share, so compression has something to do.
    static let zones = ["Coder.", "myws.Coder.", "in-addr.arpa.", "ip6.arpa.", "."].map { DNSWireTests.name($0) }

    /// The types `RecordData` decodes; any other type is carried as `.unknown` bytes.
    static let decodedTypes: Set<RecordType> = [.a, .aaaa, .ns, .ptr, .cname, .soa, .hinfo, .opt]

    static let unknownTypes: [RecordType] = [
        .mx, .txt, .srv, .ds, .rrsig, .https, .any, .axfr, RecordType(0), RecordType(99),
        RecordType(65280), RecordType(65535),
    ]

    mutating func label() -> [UInt8] {
        if generator.chance(60) {
            return Array(generator.pick(Self.vocabulary).utf8)
        }
        let length =
            generator.chance(80) ? generator.int(in: 1...10) : generator.int(in: 1...DomainName.maximumLabelLength)
        // Fold upper-case ASCII to lower case: see the type's comment.
        return generator.bytes(length).map { $0 &- 0x41 < 26 ? $0 | 0x20 : $0 }
    }

    mutating func name() -> DomainName {
        let suffix = generator.pick(Self.zones).wire
        var prefix: [UInt8] = []
        if generator.chance(8) {
            // A long name: 63-byte labels up to (sometimes exactly) the 255-byte limit.
            while suffix.count + prefix.count + 64 <= DomainName.maximumWireLength {
                prefix += [63] + generator.bytes(63).map { $0 &- 0x41 < 26 ? $0 | 0x20 : $0 }
            }
            let room = DomainName.maximumWireLength - suffix.count - prefix.count - 1
            if room > 0 && generator.chance(50) {
                prefix += [UInt8(room)] + [UInt8](repeating: UInt8(ascii: "x"), count: room)
            }
        } else {
            for _ in 0..<generator.int(in: 0...3) {
                let next = label()
                guard suffix.count + prefix.count + 1 + next.count <= DomainName.maximumWireLength else { break }
                prefix += [UInt8(next.count)] + next
            }
        }
        return DNSWireTests.name(wire: prefix + suffix)
    }

    mutating func dnsClass() -> DNSClass {
        generator.chance(85)
            ? .internet : generator.pick([.chaos, .hesiod, .none, .any, DNSClass(generator.uint16())])
    }

    mutating func question() -> Question {
        let type =
            generator.chance(70)
            ? generator.pick([.a, .aaaa, .ns, .soa, .ptr, .any, .https]) : RecordType(generator.uint16())
        return Question(name: name(), type: type, dnsClass: dnsClass())
    }

    mutating func characterString() -> [UInt8] {
        generator.bytes(generator.chance(95) ? generator.int(in: 0...20) : 255)
    }

    mutating func unknownType() -> RecordType {
        if generator.chance(50) { return generator.pick(Self.unknownTypes) }
        while true {
            let type = RecordType(generator.uint16())
            if !Self.decodedTypes.contains(type) { return type }
        }
    }

    mutating func record() -> ResourceRecord {
        let owner = name()
        let ttl = generator.chance(50) ? UInt32(generator.int(in: 0...86400)) : generator.uint32()
        let type: RecordType
        let data: RecordData
        switch generator.below(8) {
        case 0:
            type = .a
            data = .a(generator.bytes(4))
        case 1:
            type = .aaaa
            data = .aaaa(generator.bytes(16))
        case 2:
            type = .ns
            data = .ns(name())
        case 3:
            type = .ptr
            data = .ptr(name())
        case 4:
            type = .cname
            data = .cname(name())
        case 5:
            type = .soa
            data = .soa(
                SOAData(
                    primary: name(), mailbox: name(), serial: generator.uint32(), refresh: generator.uint32(),
                    retry: generator.uint32(), expire: generator.uint32(), minimum: generator.uint32()))
        case 6:
            type = .hinfo
            data = .hinfo(cpu: characterString(), os: characterString())
        default:
            type = unknownType()
            data = .unknown(
                generator.bytes(generator.chance(90) ? generator.int(in: 0...40) : generator.int(in: 41...300)))
        }
        return ResourceRecord(name: owner, type: type, dnsClass: dnsClass(), ttl: ttl, data: data)
    }

    mutating func opt() -> ResourceRecord {
        let options = (0..<generator.int(in: 0...3)).map { _ in
            EDNSOption(code: generator.uint16(), data: generator.bytes(generator.int(in: 0...24)))
        }
        let edns = EDNS(
            udpPayloadSize: generator.pick([512, 1232, 4096, generator.uint16()]),
            extendedRCode: generator.chance(80) ? 0 : generator.byte(),
            version: generator.chance(90) ? 0 : generator.byte(),
            dnssecOK: generator.chance(50), options: options)
        var record = edns.record
        if generator.chance(10) {
            // The low 15 bits of the TTL (Z) are not in the EDNS view but must survive anyway.
            record.ttl |= UInt32(generator.uint16() & 0x7FFF)
        }
        return record
    }

    mutating func message() -> Message {
        var message = Message(header: Header(id: generator.uint16(), flags: generator.uint16()))
        message.questions = (0..<generator.pick([0, 1, 1, 1, 2, 3])).map { _ in question() }
        message.answers = (0..<generator.int(in: 0...5)).map { _ in record() }
        message.authority = (0..<generator.int(in: 0...2)).map { _ in record() }
        message.additional = (0..<generator.int(in: 0...2)).map { _ in record() }
        if generator.chance(60) {
            message.additional.insert(opt(), at: generator.int(in: 0...message.additional.count))
        }
        return message.withSectionCounts()
    }
}
