import DNSWire
import Testing

/// Bytes that are not a valid message, and the error parsing them must throw.
struct Malformed: Sendable, CustomTestStringConvertible {
    let label: String
    let bytes: [UInt8]
    let error: WireError

    init(_ label: String, _ bytes: [UInt8], _ error: WireError) {
        self.label = label
        self.bytes = bytes
        self.error = error
    }

    var testDescription: String { label }
}

@Suite("Malformed input throws the specific WireError, never traps")
struct MalformedInputTests {
    static let question = headerBytes(questions: 1)
    static let answer = headerBytes(answers: 1)
    static let typeAClassIN: [UInt8] = [0x00, 0x01, 0x00, 0x01]

    /// A record owned by the root (offset 12), so its RDATA starts at offset 23.
    static func record(type: RecordType, rdlength: Int, rdata: [UInt8]) -> [UInt8] {
        [0x00] + bigEndian(type.rawValue) + bigEndian(UInt16(1)) + bigEndian(UInt32(60)) + bigEndian(UInt16(rdlength))
            + rdata
    }

    /// An OPT record owned by the root, payload size 1232.
    static func opt(rdlength: Int, rdata: [UInt8]) -> [UInt8] {
        [0x00, 0x00, 0x29, 0x04, 0xD0, 0x00, 0x00, 0x00, 0x00] + bigEndian(UInt16(rdlength)) + rdata
    }

    static let coderWire = label("coder") + [0]

    static let cases: [Malformed] = [
        // Shorter than a header.
        Malformed("an empty message", [], .truncated(needed: 2, available: 0, at: 0)),
        Malformed("a 1-byte message", [0x12], .truncated(needed: 2, available: 1, at: 0)),
        Malformed("a 5-byte message", [0x12, 0x34, 0x01, 0x00, 0x00], .truncated(needed: 2, available: 1, at: 4)),
        Malformed("an 11-byte message", Array(headerBytes().prefix(11)), .truncated(needed: 2, available: 1, at: 10)),
        // Names that run past the end.
        Malformed("a question count with no question", question, .truncated(needed: 1, available: 0, at: 12)),
        Malformed("a label cut short", question + [0x04, 0x6D, 0x79], .truncated(needed: 5, available: 3, at: 12)),
        Malformed(
            "a name without its root label", question + label("myws"), .truncated(needed: 1, available: 0, at: 17)),
        Malformed("a pointer cut in half", question + [0xC0], .truncated(needed: 2, available: 1, at: 12)),
        Malformed(
            "a question missing QCLASS", question + coderWire + [0x00, 0x01],
            .truncated(needed: 2, available: 0, at: 21)),
        // Label lengths over 63 are the reserved label types 01 and 10.
        Malformed(
            "a 64-byte label (length byte 0x40)",
            question + label(repeating: 0x61, count: 64) + [0] + typeAClassIN, .badLabelType(0x40, at: 12)),
        Malformed(
            "a length byte of 0x7F", question + [0x7F] + [UInt8](repeating: 0x61, count: 127) + [0] + typeAClassIN,
            .badLabelType(0x7F, at: 12)),
        Malformed(
            "label type 01 (0x41: the extended label type RFC 6891 retired)", question + [0x41, 0x00] + typeAClassIN,
            .badLabelType(0x41, at: 12)),
        Malformed("label type 0x80", question + [0x80, 0x00] + typeAClassIN, .badLabelType(0x80, at: 12)),
        Malformed(
            "label type 0x80 with all length bits set", question + [0xBF, 0x00] + typeAClassIN,
            .badLabelType(0xBF, at: 12)),
        Malformed(
            "a bad label type after a good label", question + label("myws") + [0x80, 0x00] + typeAClassIN,
            .badLabelType(0x80, at: 17)),
        // Pointers that do not go strictly backwards.
        Malformed("a pointer to itself", question + [0xC0, 0x0C] + typeAClassIN, .badPointer(target: 12, at: 12)),
        Malformed(
            "a forward pointer", question + [0xC0, 0x10] + typeAClassIN + coderWire,
            .badPointer(target: 16, at: 12)),
        Malformed(
            "a pointer to itself in the second question",
            headerBytes(questions: 2) + coderWire + typeAClassIN + [0xC0, 0x17] + typeAClassIN,
            .badPointer(target: 23, at: 23)),
        Malformed(
            "a pointer past the end of the message", question + [0xFF, 0xFF] + typeAClassIN,
            .badPointer(target: 0x3FFF, at: 12)),
        // A backward pointer to a label before it is still a loop: the hop limit ends it.
        Malformed(
            "a backward pointer that loops", question + label("a") + [0xC0, 0x0C] + typeAClassIN,
            .tooManyPointers(at: 14)),
        Malformed("a chain of 65 pointers", pointerChain(links: 64), .tooManyPointers(at: 24)),
        Malformed("a chain of 101 pointers", pointerChain(links: 100), .tooManyPointers(at: 96)),
        // Names over 255 bytes.
        Malformed(
            "a 257-byte name written out",
            question + [63, 63, 63, 63].flatMap { label(repeating: 0x61, count: $0) } + [0] + typeAClassIN,
            .nameTooLong(at: 12)),
        Malformed("a 256-byte name once decompressed", longNameByPointer(labelLength: 62), .nameTooLong(at: 209)),
        Malformed("a 257-byte name once decompressed", longNameByPointer(labelLength: 63), .nameTooLong(at: 209)),
        // RDATA that does not match its type or RDLENGTH.
        Malformed(
            "an A record with RDLENGTH 5", answer + record(type: .a, rdlength: 5, rdata: [1, 2, 3, 4, 5]),
            .badRecordData(type: .a, at: 23)),
        Malformed(
            "an A record with RDLENGTH 3", answer + record(type: .a, rdlength: 3, rdata: [1, 2, 3]),
            .badRecordData(type: .a, at: 23)),
        Malformed(
            "an AAAA record with RDLENGTH 4", answer + record(type: .aaaa, rdlength: 4, rdata: [1, 2, 3, 4]),
            .badRecordData(type: .aaaa, at: 23)),
        Malformed(
            "an AAAA record with RDLENGTH 17",
            answer + record(type: .aaaa, rdlength: 17, rdata: [UInt8](repeating: 1, count: 17)),
            .badRecordData(type: .aaaa, at: 23)),
        Malformed(
            "an NS name longer than RDLENGTH", answer + record(type: .ns, rdlength: 3, rdata: coderWire),
            .badRecordData(type: .ns, at: 23)),
        Malformed(
            "a CNAME name shorter than RDLENGTH", answer + record(type: .cname, rdlength: 8, rdata: coderWire + [0]),
            .badRecordData(type: .cname, at: 23)),
        Malformed(
            "an SOA with RDLENGTH one short",
            answer + record(type: .soa, rdlength: 21, rdata: [0, 0] + [UInt8](repeating: 7, count: 20)),
            .badRecordData(type: .soa, at: 23)),
        Malformed(
            "an HINFO string past RDLENGTH",
            answer + record(type: .hinfo, rdlength: 4, rdata: [1, 0x78, 3, 0x79, 0x7A, 0x77]),
            .badRecordData(type: .hinfo, at: 23)),
        Malformed(
            "RDLENGTH past the end", answer + record(type: .txt, rdlength: 100, rdata: [3, 0x61, 0x62, 0x63]),
            .truncated(needed: 100, available: 4, at: 23)),
        Malformed(
            "an A record cut short", answer + record(type: .a, rdlength: 4, rdata: [1, 2]),
            .truncated(needed: 4, available: 2, at: 23)),
        Malformed(
            "a record cut inside its TTL", answer + [0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00],
            .truncated(needed: 4, available: 2, at: 17)),
        Malformed(
            "more answers counted than present",
            headerBytes(answers: 2) + record(type: .a, rdlength: 4, rdata: [1, 2, 3, 4]),
            .truncated(needed: 1, available: 0, at: 27)),
        // OPT options.
        Malformed(
            "an OPT option longer than the RDATA",
            headerBytes(additional: 1) + opt(rdlength: 6, rdata: [0x00, 0x0A, 0x00, 0x08, 0x01, 0x02]),
            .badRecordData(type: .opt, at: 23)),
        Malformed(
            "an OPT option header crossing RDLENGTH",
            headerBytes(additional: 1) + opt(rdlength: 2, rdata: [0x00, 0x0A, 0x00, 0x00]),
            .badRecordData(type: .opt, at: 23)),
        Malformed(
            "an OPT option header past the end", headerBytes(additional: 1) + opt(rdlength: 2, rdata: [0x00, 0x0A]),
            .truncated(needed: 2, available: 0, at: 25)),
        // Trailing bytes.
        Malformed(
            "a byte after the last record", AnnotatedMessages.queryAAAAWithEDNS + [0x00],
            .badRecordData(type: RecordType(0), at: AnnotatedMessages.queryAAAAWithEDNS.count)),
        Malformed(
            "bytes after a header with no records", headerBytes(questions: 0) + [0xDE, 0xAD],
            .badRecordData(type: RecordType(0), at: 12)),
    ]

    /// A message of two answers. The first owns the root and its opaque RDATA (at offset 23)
    /// holds a root label and then `links` pointers at 24, 26, ..., each to the one before (the
    /// first to the root label). The second answer's owner is a pointer to the last link, so
    /// reading it follows `links + 1` pointers.
    static func pointerChain(links: Int) -> [UInt8] {
        var rdata: [UInt8] = [0]
        for link in 0..<links {
            rdata += bigEndian(UInt16(0xC000 | (link == 0 ? 23 : 24 + 2 * (link - 1))))
        }
        let last = 24 + 2 * (links - 1)
        return headerBytes(answers: 2) + record(type: RecordType(65280), rdlength: rdata.count, rdata: rdata)
            + bigEndian(UInt16(0xC000 | last)) + [0x00, 0x01, 0x00, 0x01, 0, 0, 0, 0, 0x00, 0x04, 127, 0, 0, 1]
    }

    /// Two questions: a 193-byte name (three 63-byte labels) at 12, then at 209 one label of
    /// `labelLength` bytes and a pointer to the first name: 2 + `labelLength` + 193 bytes long.
    static func longNameByPointer(labelLength: Int) -> [UInt8] {
        let first =
            label(repeating: 0x61, count: 63) + label(repeating: 0x62, count: 63) + label(repeating: 0x63, count: 63)
            + [0]
        return headerBytes(questions: 2) + first + typeAClassIN + label(repeating: 0x78, count: labelLength) + [
            0xC0, 0x0C,
        ] + typeAClassIN
    }

    @Test("Malformed input throws the expected error", arguments: cases)
    func malformedInputThrows(example: Malformed) {
        #expect(throws: example.error) { try Message(bytes: example.bytes) }
    }

    @Test("A name of exactly 255 bytes once decompressed parses")
    func nameOf255BytesParses() throws {
        let message = try Message(bytes: Self.longNameByPointer(labelLength: 61))
        #expect(message.questions[1].name.wire.count == 255)
        #expect(message.questions[1].name.labelCount == 4)
    }

    @Test("A chain of exactly maximumPointerHops pointers parses")
    func chainAtHopLimitParses() throws {
        #expect(WireReader.maximumPointerHops == 64)
        let message = try Message(bytes: Self.pointerChain(links: WireReader.maximumPointerHops - 1))
        #expect(message.answers[1].name == .root)
        #expect(message.answers[1].data == .a([127, 0, 0, 1]))
    }

    @Test("One pointer over maximumPointerHops throws tooManyPointers")
    func chainOverHopLimitThrows() {
        #expect(throws: WireError.tooManyPointers(at: 24)) {
            try Message(bytes: Self.pointerChain(links: WireReader.maximumPointerHops))
        }
    }

    @Test("The parser stops after a name's first pointer, wherever the name leads")
    func cursorEndsAfterFirstPointer() throws {
        // "www" + pointer to "coder." at 12: the cursor continues at the QTYPE after the pointer.
        let bytes =
            headerBytes(questions: 2) + Self.coderWire + Self.typeAClassIN + label("www") + [0xC0, 0x0C] + [
                0x00, 0x1C, 0x00, 0x01,
            ]
        let message = try Message(bytes: bytes)
        #expect(message.questions[1] == Question(name: name("www.coder."), type: .aaaa))
    }
}
