import DNSWire
import Testing

/// Packets no client program sends, over raw UDP: some are dropped, the rest get a
/// header-only FORMERR or NOTIMP, and the server keeps answering afterwards.
@Suite("Malformed and unusual UDP packets")
struct MalformedInputTests {
    /// Header fields in wire order (RFC 1035 4.1.1), for packets Message would not write.
    static func header(id: UInt16, flags: UInt16, questions: UInt16, answers: UInt16 = 0, authority: UInt16 = 0, additional: UInt16 = 0)
        -> [UInt8]
    {
        [id, flags, questions, answers, authority, additional].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
    }

    /// `myws.coder` AAAA IN, uncompressed.
    static let question: [UInt8] = [4] + Array("myws".utf8) + [5] + Array("coder".utf8) + [0, 0x00, 0x1C, 0x00, 0x01]

    static let recursionDesired = Header.Bit.recursionDesired

    /// An OPT record (RFC 6891) with one EDNS padding option (RFC 7830) of `length` zero bytes.
    static func paddedOPT(_ length: Int) -> [UInt8] {
        let optionLength = UInt16(length)
        let dataLength = optionLength + 4
        return [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, UInt8(dataLength >> 8), UInt8(dataLength & 0xFF), 0, 12]
            + [UInt8(optionLength >> 8), UInt8(optionLength & 0xFF)] + [UInt8](repeating: 0, count: length)
    }

    enum Expected: Sendable {
        case noReply
        /// A 12-byte reply: this RCODE and opcode, ID and RD copied, every count zero.
        case headerOnly(RCode, opcode: UInt8)
    }

    struct Case: Sendable, CustomStringConvertible {
        let description: String
        let id: UInt16
        let packet: @Sendable () throws -> [UInt8]
        let expected: Expected
    }

    static let cases: [Case] = [
        Case(description: "a 5-byte packet", id: 0x1234, packet: { [0x12, 0x34, 0x01, 0x00, 0x00] }, expected: .noReply),
        Case(
            description: "11 bytes, one short of a header", id: 0x1235, packet: { Array(header(id: 0x1235, flags: 0, questions: 1)[..<11]) },
            expected: .noReply),
        Case(
            description: "a response (QR=1)", id: 0x2222,
            packet: { try DNSQuery.bytes(id: 0x2222, name: "myws.coder", type: .aaaa, flags: Header.Bit.response | recursionDesired) },
            expected: .noReply),
        Case(
            description: "garbage after a valid header", id: 0x3333,
            packet: { header(id: 0x3333, flags: recursionDesired, questions: 1) + Array("GARBAGE!GARBAGE!".utf8) },
            expected: .headerOnly(.formatError, opcode: 0)),
        Case(
            description: "opcode 2 (STATUS)", id: 0x4444,
            packet: { header(id: 0x4444, flags: 2 << 11 | recursionDesired, questions: 1) + question },
            expected: .headerOnly(.notImplemented, opcode: 2)),
        Case(
            description: "QDCOUNT=2", id: 0x5555,
            packet: { header(id: 0x5555, flags: recursionDesired, questions: 2) + question + question },
            expected: .headerOnly(.formatError, opcode: 0)),
        Case(
            description: "QDCOUNT=0", id: 0x5556,
            packet: { header(id: 0x5556, flags: recursionDesired, questions: 0) },
            expected: .headerOnly(.formatError, opcode: 0)),
        Case(
            description: "bytes after the last record", id: 0x6666,
            packet: { header(id: 0x6666, flags: recursionDesired, questions: 1) + question + [0, 0, 0] },
            expected: .headerOnly(.formatError, opcode: 0)),
        Case(
            description: "a question that ends early", id: 0x6667,
            packet: { header(id: 0x6667, flags: recursionDesired, questions: 1) + question.dropLast(3) },
            expected: .headerOnly(.formatError, opcode: 0)),
        Case(
            description: "a compression pointer to itself", id: 0x7777,
            packet: { header(id: 0x7777, flags: recursionDesired, questions: 1) + [0xC0, 0x0C, 0x00, 0x1C, 0x00, 0x01] },
            expected: .headerOnly(.formatError, opcode: 0)),
        Case(
            description: "ANCOUNT=1", id: 0x8888,
            packet: {
                header(id: 0x8888, flags: recursionDesired, questions: 1, answers: 1) + question + [0xC0, 0x0C, 0, 0x1C, 0, 1, 0, 0, 0, 2, 0, 16]
                    + [UInt8](repeating: 1, count: 16)
            },
            expected: .headerOnly(.formatError, opcode: 0)),
        Case(
            description: "two OPT records", id: 0x9999,
            packet: {
                let opt: [UInt8] = [0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]
                return header(id: 0x9999, flags: recursionDesired, questions: 1, additional: 2) + question + opt + opt
            },
            expected: .headerOnly(.formatError, opcode: 0)),
        Case(
            // The server reads 4096 bytes of a datagram (docs/behaviour.md): this one is cut
            // inside its OPT record.
            description: "a 5,000-byte query, padded", id: 0xABAB,
            packet: {
                let packet = header(id: 0xABAB, flags: recursionDesired, questions: 1, additional: 1) + question
                return packet + paddedOPT(5000 - packet.count - 15)
            },
            expected: .headerOnly(.formatError, opcode: 0)),
        Case(
            description: "a question for type OPT", id: 0xAAAA,
            packet: { try DNSQuery.bytes(id: 0xAAAA, name: "myws.coder", type: .opt, flags: recursionDesired) },
            expected: .headerOnly(.formatError, opcode: 0)),
    ]

    @Test(arguments: cases)
    func aMalformedPacketIsDroppedOrAnsweredWithAHeaderAndTheServerCarriesOn(_ row: Case) throws {
        try ServerProcess.withServer { server in
            let socket = try RawSocket(.udp, to: .ipv4, port: server.port)
            try socket.send(try row.packet())
            switch row.expected {
            case .noReply:
                let reply = try socket.receiveDatagram(timeout: 0.5)
                #expect(reply == nil, "expected no reply, got \(reply?.count ?? 0) bytes")
            case .headerOnly(let rcode, let opcode):
                let datagram = try socket.receiveDatagram(timeout: 2)
                let bytes = try #require(datagram, "no reply")
                #expect(bytes.count == 12, "a header only: \(bytes)")
                let reply = try Message(bytes: bytes)
                #expect(reply.header.id == row.id)
                #expect(reply.header.isResponse)
                #expect(reply.header.opcode.rawValue == opcode)
                #expect(reply.rcode == rcode)
                #expect(reply.header.recursionDesired)
                #expect(!reply.header.isAuthoritative && !reply.header.isTruncated && !reply.header.recursionAvailable)
                #expect(reply.header.questionCount == 0 && reply.header.answerCount == 0)
                #expect(reply.header.authorityCount == 0 && reply.header.additionalCount == 0)
            }
            // The next ordinary query is answered, and it is the first reply on the socket.
            let reply = try socket.exchange(try DNSQuery.bytes(id: 0xBEEF, name: "myws.coder", type: .aaaa))
            #expect(reply.header.id == 0xBEEF)
            #expect(reply.rcode == .noError)
            #expect(reply.answerAddresses == [ipv6(Demo.mywsMain)])
        }
    }

    @Test func aQueryPaddedToFourThousandBytesIsAnswered() throws {
        try ServerProcess.withServer { server in
            let socket = try RawSocket(.udp, to: .ipv4, port: server.port)
            var packet = Self.header(id: 0x4000, flags: Self.recursionDesired, questions: 1, additional: 1) + Self.question
            packet += Self.paddedOPT(4000 - packet.count - 15)
            #expect(packet.count == 4000)
            let reply = try socket.exchange(packet)
            #expect(reply.header.id == 0x4000)
            #expect(reply.rcode == .noError)
            #expect(reply.answerAddresses == [ipv6(Demo.mywsMain)])
        }
    }

    @Test func aQueryWithRDGetsRDBackAndNoRA() throws {
        try ServerProcess.withServer { server in
            let socket = try RawSocket(.udp, to: .ipv6, port: server.port)
            // RD, plus Z, AD and CD, which the reply must clear.
            let flags = Header.Bit.recursionDesired | Header.Bit.zero | Header.Bit.authenticData | Header.Bit.checkingDisabled
            let reply = try socket.exchange(try DNSQuery.bytes(id: 0x0D0D, name: "myws.coder", type: .aaaa, flags: flags))
            #expect(reply.header.id == 0x0D0D)
            #expect(reply.header.flags == Header.Bit.response | Header.Bit.authoritative | Header.Bit.recursionDesired)
            #expect(reply.answers.count == 1)
        }
    }
}
