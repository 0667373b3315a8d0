import DNSWire
import TestSupport
import Testing

@Suite("Name compression (RFC 1035 4.1.4)")
struct NameCompressionTests {
    static let address: [UInt8] = [
        0xFD, 0x7A, 0x11, 0x5C, 0xA1, 0xE0, 0xAB, 0x12, 0x48, 0x43, 0xCD, 0x96, 0x62, 0x6B, 0x2C, 0x01,
    ]

    /// A response whose names all end in `coder.`.
    static let response = Message(
        header: Header(id: 0xBEEF, flags: 0x8400),
        questions: [Question(name: name("myws.coder."), type: .aaaa)],
        answers: [
            ResourceRecord(name: name("myws.coder."), type: .aaaa, ttl: 60, data: .aaaa(address)),
            ResourceRecord(name: name("www.myws.coder."), type: .cname, ttl: 60, data: .cname(name("myws.coder."))),
        ],
        authority: [ResourceRecord(name: name("coder."), type: .ns, ttl: 3600, data: .ns(name("ns1.coder.")))]
    ).withSectionCounts()

    static let compressedResponse: [UInt8] =
        [
            0xBE, 0xEF,  // ID
            0x84, 0x00,  // flags: QR=1 AA=1
            0x00, 0x01,  // QDCOUNT 1
            0x00, 0x02,  // ANCOUNT 2
            0x00, 0x01,  // NSCOUNT 1
            0x00, 0x00,  // ARCOUNT 0
            // Question, offset 12
            0x04, 0x6D, 0x79, 0x77, 0x73,  // offset 12: label "myws"
            0x05, 0x63, 0x6F, 0x64, 0x65, 0x72,  // offset 17: label "coder"
            0x00,  // root label
            0x00, 0x1C,  // QTYPE AAAA
            0x00, 0x01,  // QCLASS IN
            // Answer 1, offset 28
            0xC0, 0x0C,  // NAME: pointer to 12, myws.coder.
            0x00, 0x1C,  // TYPE AAAA
            0x00, 0x01,  // CLASS IN
            0x00, 0x00, 0x00, 0x3C,  // TTL 60
            0x00, 0x10,  // RDLENGTH 16
        ] + address  // RDATA
        + [
            // Answer 2, offset 56
            0x03, 0x77, 0x77, 0x77,  // offset 56: label "www"
            0xC0, 0x0C,  // pointer to 12, myws.coder.
            0x00, 0x05,  // TYPE CNAME
            0x00, 0x01,  // CLASS IN
            0x00, 0x00, 0x00, 0x3C,  // TTL 60
            0x00, 0x02,  // RDLENGTH 2
            0xC0, 0x0C,  // RDATA: pointer to 12, myws.coder.
            // Authority, offset 74
            0xC0, 0x11,  // NAME: pointer to 17, coder.
            0x00, 0x02,  // TYPE NS
            0x00, 0x01,  // CLASS IN
            0x00, 0x00, 0x0E, 0x10,  // TTL 3600
            0x00, 0x06,  // RDLENGTH 6
            0x03, 0x6E, 0x73, 0x31,  // RDATA: label "ns1"
            0xC0, 0x11,  // pointer to 17, coder.
        ]

    @Test("Names sharing suffixes are written as pointers at the expected offsets")
    func sharedSuffixesBecomePointers() {
        let bytes = Self.response.bytes
        #expect(bytes == Self.compressedResponse, "\(Hex.string(bytes))")
        #expect(bytes.count == 92)
        #expect(Array(bytes[28..<30]) == [0xC0, 0x0C])
        #expect(Array(bytes[60..<62]) == [0xC0, 0x0C])
        #expect(Array(bytes[72..<74]) == [0xC0, 0x0C])
        #expect(Array(bytes[74..<76]) == [0xC0, 0x11])
        #expect(Array(bytes[90..<92]) == [0xC0, 0x11])
    }

    @Test("Compressed output is shorter than the uncompressed form")
    func compressedOutputIsShorter() {
        #expect(uncompressedLength(of: Self.response) == 132)
        #expect(Self.response.bytes.count < uncompressedLength(of: Self.response))
    }

    @Test("A compressed message reads back equal")
    func compressedMessageReadsBack() throws {
        #expect(try Message(bytes: Self.compressedResponse) == Self.response)
    }

    @Test("Suffixes match case-insensitively and the first-written case is kept")
    func caseInsensitiveMatchKeepsFirstCase() throws {
        let message = Message(
            questions: [Question(name: name("MyWS.Coder."), type: .a)],
            answers: [
                ResourceRecord(name: name("myws.coder."), type: .a, ttl: 1, data: .a([1, 2, 3, 4])),
                ResourceRecord(name: name("WWW.MYWS.CODER."), type: .a, ttl: 1, data: .a([1, 2, 3, 4])),
            ]
        ).withSectionCounts()
        let bytes = message.bytes
        #expect(Array(bytes[28..<30]) == [0xC0, 0x0C])  // myws.coder. -> MyWS.Coder. at 12
        #expect(Array(bytes[44..<50]) == [0x03, 0x57, 0x57, 0x57, 0xC0, 0x0C])  // "WWW" then a pointer
        let parsed = try Message(bytes: bytes)
        #expect(parsed.answers[0].name == name("MyWS.Coder."))
        #expect(parsed.answers[1].name == name("WWW.MyWS.Coder."))
        #expect(parsed.answers[1].name.isEquivalent(to: name("www.myws.coder.")))
    }

    /// A writer holding a 12-byte stand-in header, so offsets match a real message's.
    static func writerAfterHeader() -> WireWriter {
        var writer = WireWriter()
        Header().write(to: &writer)
        return writer
    }

    @Test("Only whole labels match: coder. is not found inside xcoder.")
    func suffixesMatchAtLabelBoundariesOnly() {
        var writer = Self.writerAfterHeader()
        writer.writeName(name("xcoder."))
        writer.writeName(name("coder."))
        #expect(Array(writer.bytes[12...]) == label("xcoder") + [0] + label("coder") + [0])
    }

    @Test("The longest shared suffix is used")
    func longestSuffixIsUsed() {
        var writer = Self.writerAfterHeader()
        writer.writeName(name("a.b.coder."))  // 12: a, 14: b, 16: coder, 22: root
        writer.writeName(name("x.coder."))  // 23: x, then a pointer to 16
        writer.writeName(name("y.b.coder."))  // 27: y, then a pointer to 14
        writer.writeName(name("b.coder."))  // 31: a pointer to 14
        #expect(Array(writer.bytes[23...]) == label("x") + [0xC0, 16] + label("y") + [0xC0, 14] + [0xC0, 14])
    }

    @Test("A suffix can be found behind a pointer of an earlier name")
    func suffixBehindEarlierPointer() throws {
        var writer = Self.writerAfterHeader()
        writer.writeName(name("coder."))  // 12
        writer.writeName(name("myws.coder."))  // 19: myws, 24: pointer to 12
        writer.writeName(name("x.myws.coder."))  // 26: x, then pointer to 19
        #expect(Array(writer.bytes[19...]) == label("myws") + [0xC0, 12] + label("x") + [0xC0, 19])
        #expect(try readName(in: writer.bytes, at: 26) == name("x.myws.coder."))
    }

    @Test("The root name is a single zero byte, never a pointer")
    func rootIsNeverCompressed() {
        var writer = Self.writerAfterHeader()
        writer.writeName(.root)
        writer.writeName(name("coder."))
        writer.writeName(.root)
        #expect(Array(writer.bytes[12...]) == [0] + label("coder") + [0, 0])
    }

    @Test("compress: false writes every label")
    func compressionCanBeTurnedOff() {
        var writer = Self.writerAfterHeader()
        writer.writeName(name("myws.coder."))
        writer.writeName(name("myws.coder."), compress: false)
        #expect(Array(writer.bytes[24...]) == label("myws") + label("coder") + [0])
    }

    @Test("truncate(to:) forgets names past the cut, and reset() forgets all")
    func truncateAndResetForgetTargets() {
        var writer = Self.writerAfterHeader()
        writer.writeName(name("keep.coder."))  // 12
        writer.writeName(name("gone.example."))  // 24
        writer.truncate(to: 24)
        // The same bytes again, but as opaque data: no longer a name the writer may point to.
        writer.writeBytes(label("gone") + label("example") + [0])
        writer.writeName(name("gone.example."))
        #expect(Array(writer.bytes[38...]) == label("gone") + label("example") + [0])
        writer.writeName(name("keep.coder."))
        #expect(Array(writer.bytes[52...]) == [0xC0, 12])

        writer.reset()
        #expect(writer.count == 0)
        Header().write(to: &writer)
        writer.writeName(name("keep.coder."))
        #expect(Array(writer.bytes[12...]) == label("keep") + label("coder") + [0])
    }

    /// A message whose answer section starts with a record of opaque RDATA, sized so that the
    /// next record's name starts at `offset`, followed by one A record per name in `names`.
    /// `early` (if any) is the question name, at offset 12.
    static func paddedMessage(early: DomainName? = nil, nameOffset offset: Int, names: [DomainName]) -> Message {
        let questions = early.map { [Question(name: $0, type: .a)] } ?? []
        let questionLength = questions.reduce(0) { $0 + $1.name.wire.count + 4 }
        let paddingLength = offset - Header.length - questionLength - 11  // root owner + 10 fixed bytes
        let padding = ResourceRecord(
            name: .root, type: RecordType(65280), ttl: 0, data: .unknown([UInt8](repeating: 0xAA, count: paddingLength))
        )
        let records = names.map { ResourceRecord(name: $0, type: .a, ttl: 0, data: .a([127, 0, 0, 1])) }
        return Message(questions: questions, answers: [padding] + records).withSectionCounts()
    }

    @Test("A name first written at or after offset 0x4000 is repeated in full, not pointed to")
    func namesPast14BitsAreNotTargets() throws {
        let message = Self.paddedMessage(nameOffset: 0x4000, names: [name("late.coder."), name("late.coder.")])
        let bytes = message.bytes
        #expect(Array(bytes[0x4000..<0x400C]) == label("late") + label("coder") + [0])
        let second = 0x4000 + 12 + 14  // name, then TYPE CLASS TTL RDLENGTH and 4 bytes of RDATA
        #expect(Array(bytes[second..<second + 12]) == label("late") + label("coder") + [0])
        #expect(try Message(bytes: bytes) == message)
    }

    @Test("A name written before offset 0x4000 is still pointed to from after it")
    func namesBefore14BitsRemainTargets() throws {
        let message = Self.paddedMessage(early: name("early.coder."), nameOffset: 0x4000, names: [name("early.coder.")])
        let bytes = message.bytes
        #expect(Array(bytes[0x4000..<0x4002]) == [0xC0, 0x0C])
        #expect(try Message(bytes: bytes) == message)
    }

    /// Regression (bug): `WireWriter.findName` offers every label boundary of a remembered name
    /// as a target, but only checks that the name *starts* below 0x4000. A name that starts
    /// just below 0x4000 and whose later labels lie past it makes the writer call
    /// `writePointer(to:)` with an offset over 14 bits, which traps. Large TCP responses reach
    /// this. Run in a child process so that the trap fails this test only.
    @Test("A name straddling offset 0x4000 does not make the writer trap")
    func nameStraddling14BitsDoesNotTrap() async {
        await #expect(processExitsWith: .success) {
            let message = NameCompressionTests.paddedMessage(
                nameOffset: 0x3FF0, names: [name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.coder."), name("b.coder.")])
            let bytes = message.bytes  // "coder." of the first name is at 0x400F: not a valid target
            guard (try? Message(bytes: bytes)) == message else { fatalError("did not read back equal") }
        }
    }
}
