import DNSWire
import Testing

/// The same core answers asked with kdig, over UDP and over TCP, and the EDNS rules.
@Suite("Answers as kdig sees them, over UDP and TCP")
struct KdigAnswerTests {
    enum Transport: String, CaseIterable, Sendable, CustomStringConvertible {
        case udp = "UDP"
        case tcp = "TCP"

        var options: [String] { self == .tcp ? ["+tcp"] : ["+notcp"] }
        var description: String { rawValue }
    }

    /// One row of the behaviour table and what kdig must show for it.
    struct Case: Sendable, CustomStringConvertible {
        let query: [String]
        let status: String
        let authoritative: Bool
        /// The answer records' RDATA, in any order.
        let answers: [String]
        let soaInAuthority: Bool

        var description: String { query.joined(separator: " ") }
    }

    static let cases: [Case] = [
        Case(query: ["main.myws.me.coder", "AAAA"], status: "NOERROR", authoritative: true, answers: [Demo.mywsMain], soaInAuthority: false),
        Case(query: ["main.myws.alice.coder", "AAAA"], status: "NOERROR", authoritative: true, answers: [Demo.mywsMain], soaInAuthority: false),
        Case(query: ["myws.coder", "AAAA"], status: "NOERROR", authoritative: true, answers: [Demo.mywsMain], soaInAuthority: false),
        Case(query: [Demo.sentinel, "AAAA"], status: "NOERROR", authoritative: true, answers: [Demo.serviceAddress], soaInAuthority: false),
        Case(query: ["main.myws.me.coder", "A"], status: "NOERROR", authoritative: true, answers: [], soaInAuthority: true),
        Case(query: ["alice.coder", "AAAA"], status: "NOERROR", authoritative: true, answers: [], soaInAuthority: true),
        Case(query: ["dev.alice.coder", "AAAA"], status: "NOERROR", authoritative: true, answers: [], soaInAuthority: true),
        Case(query: ["nope.coder", "AAAA"], status: "NXDOMAIN", authoritative: true, answers: [], soaInAuthority: true),
        Case(query: ["coder", "NS"], status: "NOERROR", authoritative: true, answers: [Demo.sentinel + "."], soaInAuthority: false),
        Case(query: ["-x", Demo.mywsMain], status: "NOERROR", authoritative: true, answers: ["main.myws.alice.coder."], soaInAuthority: false),
        Case(query: ["-x", Demo.serviceAddress], status: "NOERROR", authoritative: true, answers: [Demo.sentinel + "."], soaInAuthority: false),
        Case(query: ["example.com", "AAAA"], status: "REFUSED", authoritative: false, answers: [], soaInAuthority: false),
    ]

    @Test(arguments: Transport.allCases)
    func theCoreAnswersAreTheSameOverEitherTransport(transport: Transport) throws {
        try ServerProcess.withServer { server in
            for address in LoopbackAddress.allCases {
                for row in Self.cases {
                    let result = try server.kdig(transport.options + row.query, over: address)
                    let context = "\(row) over \(transport) to \(address): \(result)"
                    #expect(result.transport == transport.rawValue, "\(context)")
                    #expect(result.status == row.status, "\(context)")
                    #expect(result.flags == (row.authoritative ? ["qr", "aa"] : ["qr"]), "\(context)")
                    #expect(result.answer.allSatisfy { $0.ttl == 2 }, "\(context)")
                    let data = result.answer.map(\.data)
                    if row.answers.first.flatMap(ipv6Bytes) != nil {
                        #expect(
                            data.compactMap(ipv6Bytes).sorted { $0.lexicographicallyPrecedes($1) }
                                == row.answers.compactMap(ipv6Bytes).sorted { $0.lexicographicallyPrecedes($1) }, "\(context)")
                    } else {
                        #expect(data.sorted() == row.answers.sorted(), "\(context)")
                    }
                    #expect((result.authoritySOA != nil) == row.soaInAuthority, "\(context)")
                    if row.soaInAuthority { #expect(Expect.isZoneSOA(result.authoritySOA), "\(context)") }
                }
            }
        }
    }

    @Test(arguments: Transport.allCases)
    func anOPTRecordComesBackOnlyWhenTheQueryHasOne(transport: Transport) throws {
        try ServerProcess.withServer { server in
            let with = try server.kdig(transport.options + ["+edns", "myws.coder", "AAAA"])
            #expect(with.status == "NOERROR", "\(with)")
            #expect(with.opt == DigOPT(version: 0, flags: [], udpSize: 1232), "\(with)")
            #expect(with.counts["ADDITIONAL"] == 1, "\(with)")

            let without = try server.kdig(transport.options + ["+noedns", "myws.coder", "AAAA"])
            #expect(without.status == "NOERROR", "\(without)")
            #expect(without.opt == nil, "\(without)")
            #expect(without.counts["ADDITIONAL"] == 0, "\(without)")
        }
    }

    @Test(arguments: Transport.allCases)
    func ednsVersionOneGetsBADVERSWithAVersionZeroOPT(transport: Transport) throws {
        try ServerProcess.withServer { server in
            let result = try server.kdig(transport.options + ["+edns=1", "myws.coder", "AAAA"])
            #expect(result.status == "BADVERS", "\(result)")
            #expect(result.flags == ["qr"], "\(result)")
            #expect(result.opt?.version == 0, "\(result)")
            #expect(result.answer.isEmpty && result.authority.isEmpty, "\(result)")
            #expect(result.question.map(\.name) == ["myws.coder."], "\(result)")
        }
    }

    @Test(arguments: Transport.allCases)
    func theDOBitIsCopiedFromTheQuery(transport: Transport) throws {
        try ServerProcess.withServer { server in
            let withDO = try server.kdig(transport.options + ["+dnssec", "myws.coder", "AAAA"])
            #expect(withDO.status == "NOERROR", "\(withDO)")
            #expect(withDO.opt?.flags == ["do"], "\(withDO)")

            let withoutDO = try server.kdig(transport.options + ["+edns", "myws.coder", "AAAA"])
            #expect(withoutDO.opt?.flags == [], "\(withoutDO)")
        }
    }

    @Test func unknownEDNSOptionsAndFlagBitsAreNeverEchoed() throws {
        try ServerProcess.withServer { server in
            let socket = try RawSocket(.udp, to: .ipv4, port: server.port)
            var query = try DNSQuery.message(id: 0x0E0E, name: "myws.coder", type: .aaaa)
            // DO plus every other flag bit (Z), and an option code nobody has assigned.
            query.additional = [
                ResourceRecord(
                    name: .root, type: .opt, dnsClass: DNSClass(4096), ttl: 0x0000_FFFF,
                    data: .opt([EDNSOption(code: 65_001, data: [1, 2, 3, 4])]))
            ]
            let reply = try socket.exchange(query.bytes)
            #expect(reply.header.id == 0x0E0E)
            #expect(reply.rcode == .noError)
            let opt = try #require(reply.edns)
            #expect(opt.options.isEmpty)
            #expect(opt.dnssecOK)
            #expect(reply.additional.count == 1)
            #expect(reply.additional.first?.ttl == 0x0000_8000, "only DO comes back")
            #expect(opt.udpPayloadSize == 1232)
        }
    }

    @Test func nxdomainIsTheSameWithAndWithoutEDNS() throws {
        try ServerProcess.withServer { server in
            let socket = try RawSocket(.udp, to: .ipv4, port: server.port)
            let plain = try socket.exchange(try DNSQuery.bytes(id: 1, name: "nope.coder", type: .aaaa))
            let withEDNS = try socket.exchange(try DNSQuery.bytes(id: 2, name: "nope.coder", type: .aaaa, edns: EDNS(udpPayloadSize: 1232)))
            #expect(plain.rcode == .nameError)
            #expect(withEDNS.rcode == .nameError)
            #expect(plain.header.flags == withEDNS.header.flags)
            #expect(plain.answers == withEDNS.answers)
            #expect(plain.authority == withEDNS.authority)
            #expect(plain.authority.count == 1)
            #expect(plain.additional.isEmpty)
            #expect(withEDNS.additional.count == 1)
        }
    }
}
