import DNSWire
import TestSupport
import Testing

/// A payload under Fixtures/wire and what parsing it must give.
struct WireFixture: Sendable, CustomTestStringConvertible {
    enum Outcome: Sendable {
        /// Parses to this message, and writing it gives back the file's bytes exactly.
        case parses(Message)
        case throwsError(WireError)
    }

    let file: String
    let outcome: Outcome

    var testDescription: String { file }
}

@Suite("Fixtures/wire payload files")
struct FixtureFileTests {
    static let fixtures: [WireFixture] = [
        WireFixture(
            file: "query-aaaa-edns.hex",
            outcome: .parses(
                Message(
                    header: Header(id: 0xA1B2, flags: Header.Bit.recursionDesired | Header.Bit.authenticData),
                    questions: [Question(name: name("myws.coder."), type: .aaaa)],
                    additional: [
                        EDNS(
                            udpPayloadSize: 1232, dnssecOK: true,
                            options: [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])]
                        ).record
                    ]
                ).withSectionCounts())),
        WireFixture(
            file: "query-compressed-question.hex",
            outcome: .parses(
                Message(
                    header: Header(id: 0x1234),
                    questions: [
                        Question(name: name("myws.coder."), type: .a),
                        Question(name: name("WWW.myws.coder."), type: .aaaa),
                    ]
                ).withSectionCounts())),
        WireFixture(
            file: "response-nxdomain-soa.hex",
            outcome: .parses(
                Message(
                    header: Header(
                        id: 0xBEEF,
                        flags: Header.Bit.response | Header.Bit.authoritative | UInt16(RCode.nameError.headerBits)),
                    questions: [Question(name: name("nope.myws.coder."), type: .a)],
                    authority: [
                        ResourceRecord(
                            name: name("coder."), type: .soa, ttl: 60,
                            data: .soa(
                                SOAData(
                                    primary: name("ns1.coder."), mailbox: name("hostmaster.coder."),
                                    serial: 2_024_112_501,
                                    refresh: 3600, retry: 600, expire: 86400, minimum: 60)))
                    ],
                    additional: [EDNS(udpPayloadSize: 1232).record]
                ).withSectionCounts())),
        WireFixture(file: "malformed-pointer-loop.hex", outcome: .throwsError(.badPointer(target: 12, at: 12))),
        WireFixture(file: "malformed-backward-pointer-loop.hex", outcome: .throwsError(.tooManyPointers(at: 14))),
        WireFixture(file: "malformed-label-too-long.hex", outcome: .throwsError(.badLabelType(0x40, at: 12))),
        WireFixture(
            file: "malformed-opt-option-overrun.hex", outcome: .throwsError(.badRecordData(type: .opt, at: 34))),
        WireFixture(
            file: "malformed-trailing-bytes.hex", outcome: .throwsError(.badRecordData(type: RecordType(0), at: 23))),
        WireFixture(file: "malformed-aaaa-rdlength.hex", outcome: .throwsError(.badRecordData(type: .aaaa, at: 40))),
        WireFixture(
            file: "malformed-short-header.hex", outcome: .throwsError(.truncated(needed: 2, available: 1, at: 10))),
    ]

    @Test("Each fixture file parses to its expected message or throws its expected error", arguments: fixtures)
    func fixtureHasExpectedOutcome(fixture: WireFixture) throws {
        let bytes = try Fixture.wire(fixture.file)
        switch fixture.outcome {
        case .parses(let expected):
            let message = try Message(bytes: bytes)
            #expect(message == expected)
            #expect(message.bytes == bytes, "written: \(Hex.string(message.bytes))")
        case .throwsError(let expected):
            #expect(throws: expected) { try Message(bytes: bytes) }
        }
    }

    @Test("The NXDOMAIN fixture reports RCODE NXDOMAIN and the SOA minimum")
    func nxdomainFixtureFields() throws {
        let message = try Message(bytes: Fixture.wire("response-nxdomain-soa.hex"))
        #expect(message.rcode == .nameError)
        #expect(message.header.isAuthoritative)
        guard case .soa(let soa) = message.authority.first?.data else {
            Issue.record("no SOA in the authority section")
            return
        }
        #expect(soa.minimum == 60)
        #expect(message.authority[0].name.isSubdomain(of: name("coder.")))
    }

    @Test("Every .hex file in Fixtures/wire has an expected outcome")
    func everyFixtureFileIsListed() throws {
        let files = try Fixture.wireFileNames()
        #expect(files.count >= 4)
        #expect(Set(files) == Set(Self.fixtures.map(\.file)))
    }

    @Test("Hex text ignores whitespace and # comments")
    func hexParsing() throws {
        #expect(try Hex.bytes("# header\n00 ff  # two bytes\r\n\tAb # # c0\n#") == [0x00, 0xFF, 0xAB])
        #expect(throws: Hex.BadHex.self) { try Hex.bytes("0") }
        #expect(throws: Hex.BadHex.self) { try Hex.bytes("zz") }
    }
}
