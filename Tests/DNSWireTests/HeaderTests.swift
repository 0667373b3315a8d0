import DNSWire
import Testing

@Suite("Header flags (RFC 1035 4.1.1, RFC 4035)")
struct HeaderTests {
    @Test(
        "Each flag accessor reads and writes its own bit",
        arguments: [
            (\Header.isResponse, UInt16(0x8000)),
            (\Header.isAuthoritative, 0x0400),
            (\Header.isTruncated, 0x0200),
            (\Header.recursionDesired, 0x0100),
            (\Header.recursionAvailable, 0x0080),
            (\Header.zeroBit, 0x0040),
            (\Header.authenticData, 0x0020),
            (\Header.checkingDisabled, 0x0010),
        ] as [(WritableKeyPath<Header, Bool> & Sendable, UInt16)])
    func flagAccessor(bit: WritableKeyPath<Header, Bool> & Sendable, mask: UInt16) {
        var header = Header(flags: mask)
        #expect(header[keyPath: bit])
        header = Header(flags: ~mask)
        #expect(!header[keyPath: bit])
        header[keyPath: bit] = true
        #expect(header.flags == 0xFFFF)
        header = Header(flags: 0)
        header[keyPath: bit] = true
        #expect(header.flags == mask)
        header[keyPath: bit] = false
        #expect(header.flags == 0)
    }

    @Test("OPCODE and RCODE bits are set without disturbing the other bits")
    func opcodeAndRCodeBits() {
        var header = Header(flags: 0xFFFF)
        header.opcode = .notify
        #expect(header.flags == 0xA7FF)
        #expect(header.opcode == .notify)
        header.rcodeBits = 3
        #expect(header.flags == 0xA7F3)
        header.rcodeBits = 0x13  // only the low 4 bits fit
        #expect(header.rcodeBits == 3)
        #expect(Header(flags: 0x2800).opcode == .update)
        #expect(Opcode(0x15) == .update)
    }

    @Test("A header writes and reads its six fields in order")
    func headerRoundTrip() throws {
        let header = Header(
            id: 0x0102, flags: 0x0304, questionCount: 0x0506, answerCount: 0x0708, authorityCount: 0x090A,
            additionalCount: 0x0B0C)
        var writer = WireWriter()
        header.write(to: &writer)
        #expect(writer.bytes == Array(1...12))
        let parsed = try writer.bytes.withUnsafeBytes { raw throws(WireError) in
            var reader = WireReader(raw)
            return try Header(from: &reader)
        }
        #expect(parsed == header)
    }
}

@Suite("EDNS view of the OPT record (RFC 6891)")
struct EDNSTests {
    @Test("EDNS fields map onto the OPT record's CLASS and TTL")
    func ednsMapsOntoRecord() {
        let edns = EDNS(
            udpPayloadSize: 1232, extendedRCode: 0xAB, version: 0xCD, dnssecOK: true,
            options: [EDNSOption(code: 10, data: [1])])
        let record = edns.record
        #expect(record.name == .root)
        #expect(record.type == .opt)
        #expect(record.dnsClass == DNSClass(1232))
        #expect(record.ttl == 0xABCD_8000)
        #expect(record.data == .opt([EDNSOption(code: 10, data: [1])]))
        #expect(EDNS(record) == edns)
    }

    @Test("A record that is not OPT has no EDNS view")
    func nonOPTHasNoView() {
        #expect(EDNS(ResourceRecord(name: .root, type: .a, ttl: 0, data: .a([0, 0, 0, 0]))) == nil)
    }

    @Test("A message has an EDNS view only with exactly one OPT record")
    func messageEDNSNeedsExactlyOneOPT() {
        let opt = EDNS(udpPayloadSize: 512).record
        #expect(Message().edns == nil)
        #expect(Message(additional: [opt]).edns == EDNS(udpPayloadSize: 512))
        #expect(Message(additional: [opt, opt]).edns == nil)
    }

    @Test(
        "The full RCODE joins the header's 4 bits and EDNS's 8",
        arguments: [
            (UInt8(3), UInt8?.none, RCode.nameError),
            (0, 1, .badVersion),
            (5, 0, .refused),
            (0xF, 0xFF, RCode(0xFFF)),
        ] as [(UInt8, UInt8?, RCode)])
    func fullRCode(headerBits: UInt8, extendedBits: UInt8?, expected: RCode) {
        var header = Header()
        header.rcodeBits = headerBits
        let additional = extendedBits.map { [EDNS(udpPayloadSize: 1232, extendedRCode: $0).record] } ?? []
        let message = Message(header: header, additional: additional)
        #expect(message.rcode == expected)
        #expect(expected.headerBits == headerBits)
        #expect(expected.extendedBits == extendedBits ?? 0)
    }

    @Test("Registry types print mnemonics and echo unknown values")
    func registriesEchoUnknownValues() {
        #expect(RecordType.aaaa.description == "AAAA")
        #expect(RecordType(65280).description == "TYPE65280")
        #expect(DNSClass.chaos.description == "CH")
        #expect(DNSClass(42).description == "CLASS42")
        #expect(RCode.badVersion.description == "BADVERS")
        #expect(RCode(23).description == "RCODE23")
    }
}
