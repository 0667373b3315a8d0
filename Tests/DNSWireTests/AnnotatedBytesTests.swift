import DNSWire
import Testing

@Suite("Annotated byte literals parse into the expected fields and write back exactly")
struct AnnotatedBytesTests {
    @Test("A query for myws.coder AAAA with OPT (DO, payload 1232) parses into its fields")
    func queryAAAAWithEDNSParses() throws {
        let message = try Message(bytes: AnnotatedMessages.queryAAAAWithEDNS)
        #expect(message.header.id == 0x1234)
        #expect(!message.header.isResponse)
        #expect(message.header.opcode == .query)
        #expect(message.header.recursionDesired)
        #expect(!message.header.isTruncated)
        #expect(message.header.questionCount == 1)
        #expect(message.header.additionalCount == 1)
        #expect(message.questions == [Question(name: name("myws.coder."), type: .aaaa, dnsClass: .internet)])
        #expect(message.answers.isEmpty)
        #expect(message.authority.isEmpty)
        #expect(message.additional.count == 1)
        let edns = try #require(message.edns)
        #expect(edns.udpPayloadSize == 1232)
        #expect(edns.dnssecOK)
        #expect(edns.version == 0)
        #expect(edns.extendedRCode == 0)
        #expect(edns.options.isEmpty)
        #expect(message.rcode == .noError)
    }

    @Test("An AAAA response with compressed owner names parses into its fields")
    func responseAAAAParses() throws {
        let message = try Message(bytes: AnnotatedMessages.responseAAAA)
        #expect(message.header.isResponse)
        #expect(message.header.isAuthoritative)
        #expect(message.header.recursionDesired)
        #expect(!message.header.recursionAvailable)
        #expect(message.rcode == .noError)
        #expect(message.answers.count == 2)
        #expect(message.answers.allSatisfy { $0.name == name("myws.coder.") && $0.type == .aaaa && $0.ttl == 60 })
        #expect(
            message.answers[0].data
                == .aaaa([
                    0xFD, 0x7A, 0x11, 0x5C, 0xA1, 0xE0, 0xAB, 0x12, 0x48, 0x43, 0xCD, 0x96, 0x62, 0x6B, 0x2C, 0x01,
                ]))
        #expect(message.answers[1].data == .aaaa([UInt8](repeating: 0, count: 15) + [1]))
        #expect(message.edns == EDNS(udpPayloadSize: 1232))
    }

    @Test("A BADVERS response combines header and OPT bits into RCODE 16")
    func responseBadVersionParses() throws {
        let message = try Message(bytes: AnnotatedMessages.responseBadVersion)
        #expect(message.header.rcodeBits == 0)
        #expect(message.rcode == .badVersion)
        #expect(message.edns?.options == [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])])
    }

    @Test("Annotated messages write back byte for byte", arguments: AnnotatedMessages.all)
    func annotatedMessageWritesBack(label: String, bytes: [UInt8]) throws {
        #expect(try Message(bytes: bytes).bytes == bytes, "\(label)")
    }

    @Test("The query built from values writes exactly the annotated bytes")
    func queryBuiltFromValuesMatches() {
        let message = Message(
            header: Header(id: 0x1234, flags: Header.Bit.recursionDesired),
            questions: [Question(name: name("myws.coder."), type: .aaaa)],
            additional: [EDNS(udpPayloadSize: 1232, dnssecOK: true).record])
        #expect(message.bytes == AnnotatedMessages.queryAAAAWithEDNS)
    }
}
