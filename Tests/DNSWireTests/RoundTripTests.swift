import DNSWire
import TestSupport
import Testing

/// A named message for parameterized tests.
struct Example: Sendable, CustomTestStringConvertible {
    let label: String
    let message: Message

    init(_ label: String, _ message: Message) {
        self.label = label
        self.message = message.withSectionCounts()
    }

    var testDescription: String { label }
}

@Suite("Round trips: parse(write(m)) == m")
struct RoundTripTests {
    static let fd7a: [UInt8] = [
        0xFD, 0x7A, 0x11, 0x5C, 0xA1, 0xE0, 0xAB, 0x12, 0x48, 0x43, 0xCD, 0x96, 0x62, 0x6B, 0x2C, 0x01,
    ]

    static let soa = SOAData(
        primary: name("ns1.coder."), mailbox: name("hostmaster.coder."), serial: 2_024_112_501, refresh: 3600,
        retry: 600, expire: 86400, minimum: 60)

    static let examples: [Example] = [
        Example("an empty message (header only)", Message(header: Header(id: 0))),
        Example(
            "a query without OPT",
            Message(
                header: Header(id: 1, flags: Header.Bit.recursionDesired),
                questions: [Question(name: name("myws.coder."), type: .a)])),
        Example(
            "a query with OPT, DO set, payload 1232",
            Message(
                header: Header(id: 2, flags: 0x0120), questions: [Question(name: name("myws.coder."), type: .aaaa)],
                additional: [EDNS(udpPayloadSize: 1232, dnssecOK: true).record])),
        Example(
            "a query with OPT options (COOKIE, padding, empty)",
            Message(
                header: Header(id: 3), questions: [Question(name: name("myws.coder."), type: .aaaa)],
                additional: [
                    EDNS(
                        udpPayloadSize: 4096,
                        options: [
                            EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8]),
                            EDNSOption(code: 12, data: [UInt8](repeating: 0, count: 37)),
                            EDNSOption(code: 65001, data: []),
                        ]
                    ).record
                ])),
        Example(
            "an answer with two AAAA records and an A record",
            Message(
                header: Header(id: 4, flags: 0x8580), questions: [Question(name: name("myws.coder."), type: .any)],
                answers: [
                    ResourceRecord(name: name("myws.coder."), type: .aaaa, ttl: 60, data: .aaaa(fd7a)),
                    ResourceRecord(
                        name: name("myws.coder."), type: .aaaa, ttl: 60,
                        data: .aaaa([UInt8](repeating: 0, count: 15) + [1])),
                    ResourceRecord(name: name("myws.coder."), type: .a, ttl: 60, data: .a([100, 64, 0, 1])),
                ])),
        Example(
            "a referral with NS records and A glue",
            Message(
                header: Header(id: 5, flags: 0x8000), questions: [Question(name: name("deep.sub.coder."), type: .a)],
                authority: [
                    ResourceRecord(name: name("sub.coder."), type: .ns, ttl: 3600, data: .ns(name("ns1.sub.coder."))),
                    ResourceRecord(name: name("sub.coder."), type: .ns, ttl: 3600, data: .ns(name("ns2.elsewhere."))),
                ],
                additional: [
                    ResourceRecord(name: name("ns1.sub.coder."), type: .a, ttl: 3600, data: .a([10, 0, 0, 53]))
                ])),
        Example(
            "a PTR answer for a reverse name",
            Message(
                header: Header(id: 6, flags: 0x8400),
                questions: [Question(name: name("1.0.0.127.in-addr.arpa."), type: .ptr)],
                answers: [
                    ResourceRecord(
                        name: name("1.0.0.127.in-addr.arpa."), type: .ptr, ttl: 0, data: .ptr(name("localhost.")))
                ])),
        Example(
            "a CNAME chain",
            Message(
                header: Header(id: 7, flags: 0x8400), questions: [Question(name: name("www.MyWS.coder."), type: .a)],
                answers: [
                    ResourceRecord(
                        name: name("www.MyWS.coder."), type: .cname, ttl: 300, data: .cname(name("MyWS.coder."))),
                    ResourceRecord(name: name("MyWS.coder."), type: .a, ttl: 300, data: .a([127, 0, 0, 1])),
                ])),
        Example(
            "an NXDOMAIN with SOA and OPT",
            Message(
                header: Header(id: 8, flags: 0x8403), questions: [Question(name: name("nope.myws.coder."), type: .a)],
                authority: [ResourceRecord(name: name("coder."), type: .soa, ttl: 60, data: .soa(soa))],
                additional: [EDNS(udpPayloadSize: 1232).record])),
        Example(
            "an HINFO answer to ANY (RFC 8482)",
            Message(
                header: Header(id: 9, flags: 0x8400), questions: [Question(name: name("myws.coder."), type: .any)],
                answers: [
                    ResourceRecord(
                        name: name("myws.coder."), type: .hinfo, ttl: 3600,
                        data: .hinfo(cpu: Array("RFC8482".utf8), os: []))
                ])),
        Example(
            "unknown types and classes kept as bytes",
            Message(
                header: Header(id: 10, flags: 0x8000),
                questions: [Question(name: name("version.bind."), type: .txt, dnsClass: .chaos)],
                answers: [
                    ResourceRecord(
                        name: name("version.bind."), type: .txt, dnsClass: .chaos, ttl: 0,
                        data: .unknown([5] + Array("1.0.0".utf8))),
                    ResourceRecord(
                        name: name("x.coder."), type: RecordType(65280), dnsClass: DNSClass(0xABCD), ttl: .max,
                        data: .unknown([])),
                    ResourceRecord(
                        name: name("coder."), type: .mx, ttl: 1,
                        data: .unknown([0, 10, 4] + Array("mail".utf8) + [0xC0, 0x0C])),
                ])),
        Example(
            "mixed letter case in names that share suffixes consistently",
            Message(
                header: Header(id: 11, flags: 0x8400), questions: [Question(name: name("MyWS.CoDeR."), type: .aaaa)],
                answers: [
                    ResourceRecord(
                        name: name("MyWS.CoDeR."), type: .cname, ttl: 5, data: .cname(name("Dev-Box.MyWS.CoDeR."))),
                    ResourceRecord(name: name("Dev-Box.MyWS.CoDeR."), type: .aaaa, ttl: 5, data: .aaaa(fd7a)),
                    ResourceRecord(name: name("API.Example."), type: .ns, ttl: 5, data: .ns(name("NS.API.Example."))),
                ])),
        Example(
            "the root name as question and owner",
            Message(
                header: Header(id: 12), questions: [Question(name: .root, type: .ns)],
                answers: [ResourceRecord(name: .root, type: .ns, ttl: 518_400, data: .ns(name("a.root-servers.net.")))])
        ),
        Example(
            "every header bit set, opcode UPDATE, RCODE 15",
            Message(header: Header(id: 0xFFFF, flags: 0xFFFF), questions: [Question(name: name("coder."), type: .soa)])),
        Example(
            "a name of exactly 255 bytes",
            Message(
                header: Header(id: 13),
                questions: [
                    Question(
                        name: name(
                            wire: label(repeating: 0x61, count: 63) + label(repeating: 0x62, count: 63)
                                + label(repeating: 0x63, count: 63) + label(repeating: 0x64, count: 61) + [0]),
                        type: .a)
                ])),
        Example(
            "labels holding dots, spaces, zero bytes and bytes over 0x7F",
            Message(
                header: Header(id: 14),
                questions: [
                    Question(
                        name: name(wire: [3, 0x61, 0x2E, 0x62, 2, 0x00, 0xFF, 1, 0x20, 5] + Array("coder".utf8) + [0]),
                        type: .a)
                ],
                answers: [
                    ResourceRecord(
                        name: name(wire: [1, 0x5C, 0]), type: .ptr, ttl: 0, data: .ptr(name(wire: [2, 0xC3, 0x84, 0])))
                ])),
        Example(
            "a BADVERS response (extended RCODE in OPT)",
            Message(
                header: Header(id: 15, flags: 0x8000), questions: [Question(name: name("coder."), type: .a)],
                additional: [EDNS(udpPayloadSize: 1232, extendedRCode: 1, version: 0).record])),
    ]

    @Test("A message survives writing and parsing unchanged", arguments: examples)
    func messageSurvivesRoundTrip(example: Example) throws {
        let parsed = try Message(bytes: example.message.bytes)
        #expect(parsed == example.message)
        #expect(parsed.bytes == example.message.bytes)
    }

    @Test("Letter case in names survives a round trip byte for byte")
    func letterCaseSurvives() throws {
        let message = Message(questions: [Question(name: name("MyWS.CoDeR."), type: .a)]).withSectionCounts()
        let parsed = try Message(bytes: message.bytes)
        #expect(parsed.questions[0].name.wire == Array("\u{4}MyWS\u{5}CoDeR\u{0}".utf8))
    }

    @Test("Random messages survive a round trip", arguments: [1, 2, 3, 4] as [UInt64])
    func randomMessagesSurviveRoundTrip(seed: UInt64) {
        var random = RandomMessages(seed: seed)
        for index in 0..<100 {
            let message = random.message()
            let bytes = message.bytes
            switch roundTrip(message) {
            case .success(let parsed):
                #expect(parsed == message, "seed \(seed), message \(index): \(Hex.string(bytes))")
            case .failure(let error):
                Issue.record("seed \(seed), message \(index) did not parse back: \(error); \(Hex.string(bytes))")
            }
        }
    }

    @Test("Random messages cover every decoded record type and both compressed and uncompressed names")
    func randomMessagesCoverTheTypes() {
        var random = RandomMessages(seed: 1)
        var types: Set<RecordType> = []
        var compressedBytes = 0
        var uncompressedBytes = 0
        for _ in 0..<100 {
            let message = random.message()
            for record in message.answers + message.authority + message.additional { types.insert(record.type) }
            compressedBytes += message.bytes.count
            uncompressedBytes += uncompressedLength(of: message)
        }
        #expect(types.isSuperset(of: RandomMessages.decodedTypes))
        #expect(types.count > RandomMessages.decodedTypes.count)
        #expect(compressedBytes < uncompressedBytes)
    }
}
