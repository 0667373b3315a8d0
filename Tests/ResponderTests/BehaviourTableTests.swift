import DNSWire
import RecordStore
import Responder
import Testing

/// One row per line of docs/behaviour.md's query table, answered by the real query
/// processor without sockets.
@Suite("Every row of the behaviour table")
struct BehaviourTableTests {
    /// What a reply must look like.
    struct Row: CustomTestStringConvertible, Sendable {
        let label: String
        let name: String
        let type: RecordType
        var dnsClass: DNSClass = .internet
        let rcode: RCode
        let authoritative: Bool
        /// Types of the answer records, in order.
        var answerTypes: [RecordType] = []
        /// Whether the authority section holds exactly the zone's SOA.
        var soaInAuthority = false
        var additionalTypes: [RecordType] = [.opt]
        var testDescription: String { label }
    }

    static let rows: [Row] = [
        Row(label: "AAAA for <agent>.<ws>.me", name: "main.myws.me.coder", type: .aaaa, rcode: .noError, authoritative: true, answerTypes: [.aaaa]),
        Row(
            label: "AAAA for <agent>.<ws>.<owner>", name: "main.myws.alice.coder", type: .aaaa, rcode: .noError, authoritative: true,
            answerTypes: [.aaaa]),
        Row(label: "AAAA for a single-agent <ws>", name: "myws.coder", type: .aaaa, rcode: .noError, authoritative: true, answerTypes: [.aaaa]),
        Row(
            label: "AAAA for the sentinel", name: "is.coder--connect--enabled--right--now.coder", type: .aaaa, rcode: .noError, authoritative: true,
            answerTypes: [.aaaa]),
        Row(label: "A for a known name is NODATA", name: "main.myws.me.coder", type: .a, rcode: .noError, authoritative: true, soaInAuthority: true),
        Row(label: "TXT for a known name is NODATA", name: "myws.coder", type: .txt, rcode: .noError, authoritative: true, soaInAuthority: true),
        Row(
            label: "HTTPS for the sentinel is NODATA", name: "is.coder--connect--enabled--right--now.coder", type: .https, rcode: .noError,
            authoritative: true, soaInAuthority: true),
        Row(label: "me.coder is an empty non-terminal", name: "me.coder", type: .aaaa, rcode: .noError, authoritative: true, soaInAuthority: true),
        Row(label: "alice.coder is an empty non-terminal", name: "alice.coder", type: .a, rcode: .noError, authoritative: true, soaInAuthority: true),
        Row(
            label: "myws.alice.coder is an empty non-terminal", name: "myws.alice.coder", type: .aaaa, rcode: .noError, authoritative: true,
            soaInAuthority: true),
        Row(
            label: "the sentinel's parent is an empty non-terminal", name: "coder--connect--enabled--right--now.coder", type: .aaaa, rcode: .noError,
            authoritative: true, soaInAuthority: true),
        Row(
            label: "a multi-agent workspace has no <ws> name", name: "dev.coder", type: .aaaa, rcode: .nameError, authoritative: true,
            soaInAuthority: true),
        Row(label: "an unknown name is NXDOMAIN", name: "nope.coder", type: .aaaa, rcode: .nameError, authoritative: true, soaInAuthority: true),
        Row(
            label: "a name below a host is NXDOMAIN", name: "x.main.myws.me.coder", type: .aaaa, rcode: .nameError, authoritative: true,
            soaInAuthority: true),
        Row(label: "apex SOA", name: "coder", type: .soa, rcode: .noError, authoritative: true, answerTypes: [.soa]),
        Row(
            label: "apex NS with glue", name: "coder", type: .ns, rcode: .noError, authoritative: true, answerTypes: [.ns],
            additionalTypes: [.aaaa, .opt]),
        Row(label: "apex AAAA is NODATA", name: "coder", type: .aaaa, rcode: .noError, authoritative: true, soaInAuthority: true),
        Row(
            label: "ANY for a host is its AAAA RRset", name: "main.dev.me.coder", type: .any, rcode: .noError, authoritative: true,
            answerTypes: [.aaaa]),
        Row(label: "ANY at the apex is the SOA", name: "coder", type: .any, rcode: .noError, authoritative: true, answerTypes: [.soa]),
        Row(
            label: "ANY for an empty non-terminal is NODATA", name: "me.coder", type: .any, rcode: .noError, authoritative: true, soaInAuthority: true
        ),
        Row(
            label: "PTR for an agent address", name: "0.1.f.0.e.0.d.0.c.0.b.0.a.0.9.0.8.0.7.0.b.2.4.a.a.7.2.6.0.6.d.f.ip6.arpa", type: .ptr,
            rcode: .noError, authoritative: true, answerTypes: [.ptr]),
        Row(
            label: "PTR for the resolver's address", name: "3.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.2.4.a.a.7.2.6.0.6.d.f.ip6.arpa", type: .ptr,
            rcode: .noError, authoritative: true, answerTypes: [.ptr]),
        Row(
            label: "PTR for an unknown address is NXDOMAIN", name: "1.1.f.0.e.0.d.0.c.0.b.0.a.0.9.0.8.0.7.0.b.2.4.a.a.7.2.6.0.6.d.f.ip6.arpa",
            type: .ptr, rcode: .nameError, authoritative: true, soaInAuthority: true),
        Row(
            label: "a partial reverse name above an address is NODATA", name: "8.0.7.0.b.2.4.a.a.7.2.6.0.6.d.f.ip6.arpa", type: .ptr, rcode: .noError,
            authoritative: true, soaInAuthority: true),
        Row(
            label: "a non-hex reverse label is NXDOMAIN", name: "x.b.2.4.a.a.7.2.6.0.6.d.f.ip6.arpa", type: .ptr, rcode: .nameError,
            authoritative: true, soaInAuthority: true),
        Row(
            label: "reverse apex SOA", name: "b.2.4.a.a.7.2.6.0.6.d.f.ip6.arpa", type: .soa, rcode: .noError, authoritative: true, answerTypes: [.soa]
        ),
        Row(
            label: "A for the agent address's PTR name is NODATA", name: "0.1.f.0.e.0.d.0.c.0.b.0.a.0.9.0.8.0.7.0.b.2.4.a.a.7.2.6.0.6.d.f.ip6.arpa",
            type: .a, rcode: .noError, authoritative: true, soaInAuthority: true),
        Row(label: "a name outside the zones is REFUSED", name: "example.com", type: .a, rcode: .refused, authoritative: false),
        Row(label: "a name merely ending in the suffix's letters is REFUSED", name: "xcoder", type: .aaaa, rcode: .refused, authoritative: false),
        Row(label: "another ip6.arpa zone is REFUSED", name: "1.0.0.2.ip6.arpa", type: .ptr, rcode: .refused, authoritative: false),
        Row(label: "class CH is REFUSED", name: "myws.coder", type: .aaaa, dnsClass: .chaos, rcode: .refused, authoritative: false),
        Row(label: "class HS is REFUSED", name: "myws.coder", type: .aaaa, dnsClass: .hesiod, rcode: .refused, authoritative: false),
        Row(label: "class ANY is REFUSED", name: "myws.coder", type: .aaaa, dnsClass: .any, rcode: .refused, authoritative: false),
        Row(label: "AXFR is REFUSED", name: "coder", type: .axfr, rcode: .refused, authoritative: false),
        Row(label: "MAILB is NOTIMP", name: "coder", type: .mailb, rcode: .notImplemented, authoritative: false),
    ]

    @Test("answers", arguments: rows)
    func answers(_ row: Row) throws {
        let reply = try #require(TestZone.answer(TestZone.query(row.name, row.type, dnsClass: row.dnsClass)))
        #expect(reply.rcode == row.rcode)
        #expect(reply.header.isAuthoritative == row.authoritative)
        #expect(reply.answers.map(\.type) == row.answerTypes)
        #expect(reply.additional.map(\.type) == row.additionalTypes)
        if row.soaInAuthority {
            #expect(reply.authority.count == 1)
            let soa = try #require(reply.authority.first)
            #expect(soa.type == .soa)
            #expect(soa.ttl == 2)
            let apex = row.name.hasSuffix("ip6.arpa") ? ZoneConfiguration.reverseApex : TestZone.configuration.suffix
            #expect(soa.name.isEquivalent(to: apex))
            guard case .soa(let data) = soa.data else {
                Issue.record("SOA record without SOA data")
                return
            }
            #expect(data.minimum == 2)
            #expect(data.serial == 7)
        } else {
            #expect(reply.authority.isEmpty)
        }
        // The question is always echoed exactly.
        #expect(reply.questions == [Question(name: try DomainName(row.name), type: row.type, dnsClass: row.dnsClass)])
        for record in reply.answers { #expect(record.ttl == 2) }
    }

    @Test func hostAnswersCarryTheAgentAddress() throws {
        let reply = try #require(TestZone.answer(TestZone.query("main.myws.me.coder", .aaaa)))
        #expect(reply.answers.first?.data == .aaaa(TestZone.mainAddress))
        let sentinel = try #require(TestZone.answer(TestZone.query("is.coder--connect--enabled--right--now.coder", .aaaa)))
        #expect(sentinel.answers.first?.data == .aaaa(TestZone.resolverAddress))
    }

    @Test func pointerRecordsNameTheOwnerForm() throws {
        let reply = try #require(
            TestZone.answer(TestZone.query("0.1.F.0.E.0.D.0.C.0.B.0.A.0.9.0.8.0.7.0.B.2.4.A.A.7.2.6.0.6.D.F.IP6.ARPA", .ptr)))
        #expect(reply.answers.first?.data == .ptr(try DomainName("main.dev.alice.coder.")))
        let resolver = try #require(
            TestZone.answer(TestZone.query("3.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.2.4.a.a.7.2.6.0.6.d.f.ip6.arpa", .ptr)))
        #expect(resolver.answers.first?.data == .ptr(TestZone.configuration.sentinel))
    }

    @Test func apexRecordsNameTheSentinel() throws {
        let ns = try #require(TestZone.answer(TestZone.query("coder", .ns)))
        #expect(ns.answers.first?.data == .ns(TestZone.configuration.sentinel))
        #expect(ns.additional.first?.name == TestZone.configuration.sentinel)
        #expect(ns.additional.first?.data == .aaaa(TestZone.resolverAddress))
        let soa = try #require(TestZone.answer(TestZone.query("coder", .soa)))
        guard case .soa(let data) = soa.answers.first?.data else {
            Issue.record("no SOA")
            return
        }
        #expect(data.primary == TestZone.configuration.sentinel)
        #expect(data.mailbox == (try DomainName("hostmaster.coder.")))
    }

    @Test func mixedCaseQuestionsMatchAndAreEchoedExactly() throws {
        let reply = try #require(TestZone.answer(TestZone.query("MaIn.MyWs.Me.CoDeR", .aaaa)))
        #expect(reply.rcode == .noError)
        #expect(reply.questions.first?.name.wire == (try DomainName("MaIn.MyWs.Me.CoDeR")).wire)
        #expect(reply.answers.first?.data == .aaaa(TestZone.mainAddress))
        let nx = try #require(TestZone.answer(TestZone.query("NoPe.CODER", .aaaa)))
        #expect(nx.rcode == .nameError)
        #expect(nx.questions.first?.name.wire == (try DomainName("NoPe.CODER")).wire)
    }

    @Test(
        "before any data, every in-zone name is SERVFAIL",
        arguments: [
            ("myws.coder", RecordType.aaaa), ("is.coder--connect--enabled--right--now.coder", .aaaa), ("coder", .soa),
            ("nope.coder", .aaaa), ("3.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.b.2.4.a.a.7.2.6.0.6.d.f.ip6.arpa", .ptr),
        ])
    func servfailWithoutData(name: String, type: RecordType) throws {
        let reply = try #require(TestZone.answer(TestZone.query(name, type), snapshot: TestZone.empty))
        #expect(reply.rcode == .serverFailure)
        #expect(!reply.header.isAuthoritative)
        #expect(reply.answers.isEmpty && reply.authority.isEmpty)
        #expect(reply.edns != nil)
    }

    @Test func namesOutsideTheZonesAreRefusedEvenWithoutData() throws {
        let reply = try #require(TestZone.answer(TestZone.query("example.com", .a), snapshot: TestZone.empty))
        #expect(reply.rcode == .refused)
    }
}
