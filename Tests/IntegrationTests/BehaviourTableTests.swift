import DNSWire
import Foundation
import TestSupport
import Testing

/// Every row of docs/behaviour.md's "Every kind of query" table, asked of the real binary
/// (`Fixtures/demo-snapshot.json`, `--owner alice`). The rows are read from the document: a
/// row with no case here, or a case for a row the document no longer has, fails.
@Suite("docs/behaviour.md's query table, on the real binary", .serialized)
struct BehaviourTableOnTheBinaryTests {
    typealias M = MalformedInputTests

    /// One query and what its reply must be; `check` returns what is wrong, or nil.
    struct Probe: Sendable {
        let what: String
        var overTCP = false
        let packet: @Sendable () throws -> [UInt8]
        let check: @Sendable (Message?) -> String?
    }

    // MARK: Checks

    /// An answer from the zones: `rcode`, AA set, `answers` records (nil: any number but 0),
    /// and the zone's SOA alone in authority when `soa`.
    static func zoneAnswer(_ rcode: RCode, answers: Int?, soa: Bool, type: RecordType? = nil) -> @Sendable (Message?) -> String? {
        { reply in
            guard let reply else { return "no reply" }
            if reply.rcode != rcode { return "rcode \(reply.rcode)" }
            if !reply.header.isAuthoritative { return "AA clear" }
            if let answers, reply.answers.count != answers { return "\(reply.answers.count) answers" }
            if answers == nil && reply.answers.isEmpty { return "no answers" }
            if let type, !reply.answers.allSatisfy({ $0.type == type }) { return "answers \(reply.answers.map(\.type))" }
            if soa != (reply.authority.count == 1 && reply.authority[0].type == .soa) { return "authority \(reply.authority.map(\.type))" }
            return nil
        }
    }

    /// Not from the zones: `rcode`, AA clear, the question echoed, nothing else but an OPT.
    static func refusal(_ rcode: RCode, question: Question) -> @Sendable (Message?) -> String? {
        { reply in
            guard let reply else { return "no reply" }
            if reply.rcode != rcode { return "rcode \(reply.rcode)" }
            if reply.header.isAuthoritative { return "AA set" }
            if reply.questions != [question] { return "question \(reply.questions)" }
            if !reply.answers.isEmpty || !reply.authority.isEmpty { return "records in the reply" }
            return nil
        }
    }

    /// A 12-byte header: `rcode`, every count zero.
    static func headerOnly(_ rcode: RCode) -> @Sendable (Message?) -> String? {
        { reply in
            guard let reply else { return "no reply" }
            if reply.rcode != rcode { return "rcode \(reply.rcode)" }
            if !reply.questions.isEmpty || !reply.answers.isEmpty || !reply.authority.isEmpty || !reply.additional.isEmpty {
                return "not a header only"
            }
            return nil
        }
    }

    static func query(_ name: String, _ type: RecordType, _ dnsClass: DNSClass = .internet, edns: Bool = false) -> @Sendable () throws -> [UInt8] {
        { try DNSQuery.bytes(id: 0x5151, name: name, type: type, dnsClass: dnsClass, edns: edns ? EDNS(udpPayloadSize: 1232) : nil) }
    }

    static func question(_ name: String, _ type: RecordType, _ dnsClass: DNSClass = .internet) -> Question {
        Question(name: try! DomainName(name), type: type, dnsClass: dnsClass)
    }

    /// `myws.coder` AAAA with one more record section entry: `authority` in NSCOUNT or, for
    /// an OPT, in ARCOUNT.
    static func withRecord(authority: Bool = false, _ record: [UInt8]) -> @Sendable () throws -> [UInt8] {
        {
            M.header(id: 0x5151, flags: 0, questions: 1, authority: authority ? 1 : 0, additional: authority ? 0 : 1) + M.question + record
        }
    }

    /// The reverse name of the first `count` nibbles below the /48 of `address`.
    static func reverse(_ address: String, nibbles count: Int) -> String {
        let bytes = ipv6(address)
        let nibbles = bytes.flatMap { [$0 >> 4, $0 & 0x0F] }
        return nibbles[12..<(12 + count)].reversed().map { String($0, radix: 16) }.joined(separator: ".") + "." + Demo.reverseApex
    }

    // MARK: The rows

    /// Keyed by the row's first cell in docs/behaviour.md, exactly.
    static let rows: [String: [Probe]] = [
        "AAAA for a known name": [
            Probe(
                what: "main.dev.alice.coder AAAA", packet: query("main.dev.alice.coder", .aaaa),
                check: zoneAnswer(.noError, answers: 1, soa: false, type: .aaaa))
        ],
        "A or any other type for a known name": [
            Probe(what: "myws.coder A", packet: query("myws.coder", .a), check: zoneAnswer(.noError, answers: 0, soa: true)),
            Probe(what: "myws.coder TXT", packet: query("myws.coder", .txt), check: zoneAnswer(.noError, answers: 0, soa: true)),
        ],
        "a name with names below it but no records (`alice.coder`)": [
            Probe(what: "alice.coder AAAA", packet: query("alice.coder", .aaaa), check: zoneAnswer(.noError, answers: 0, soa: true)),
            Probe(
                what: "a nibble name above an agent", packet: query(reverse(Demo.mywsMain, nibbles: 4), .ptr),
                check: zoneAnswer(.noError, answers: 0, soa: true)),
        ],
        "unknown name in either zone": [
            Probe(what: "nope.coder AAAA", packet: query("nope.coder", .aaaa), check: zoneAnswer(.nameError, answers: 0, soa: true)),
            Probe(
                what: "an unknown full reverse name", packet: query(reverse("fd60:627a:a42b:1::1", nibbles: 20), .ptr),
                check: zoneAnswer(.nameError, answers: 0, soa: true)),
        ],
        "SOA / NS at either apex": [
            Probe(what: "coder SOA", packet: query("coder", .soa), check: zoneAnswer(.noError, answers: 1, soa: false, type: .soa)),
            Probe(what: "reverse apex SOA", packet: query(Demo.reverseApex, .soa), check: zoneAnswer(.noError, answers: 1, soa: false, type: .soa)),
            Probe(what: "coder NS", packet: query("coder", .ns), check: nsWithGlue),
            Probe(what: "reverse apex NS", packet: query(Demo.reverseApex, .ns), check: nsWithGlue),
        ],
        "any other type at an apex": [
            Probe(what: "coder AAAA", packet: query("coder", .aaaa), check: zoneAnswer(.noError, answers: 0, soa: true)),
            Probe(what: "coder MX", packet: query("coder", .mx), check: zoneAnswer(.noError, answers: 0, soa: true)),
            Probe(what: "reverse apex PTR", packet: query(Demo.reverseApex, .ptr), check: zoneAnswer(.noError, answers: 0, soa: true)),
        ],
        "ANY (RFC 8482)": [
            Probe(what: "myws.coder ANY", packet: query("myws.coder", .any), check: zoneAnswer(.noError, answers: 1, soa: false, type: .aaaa)),
            Probe(what: "coder ANY", packet: query("coder", .any), check: zoneAnswer(.noError, answers: 1, soa: false, type: .soa)),
            Probe(what: "me.coder ANY", packet: query("me.coder", .any), check: zoneAnswer(.noError, answers: 0, soa: true)),
        ],
        "PTR for an agent address": [
            Probe(
                what: "myws main's PTR", packet: query(reverse(Demo.mywsMain, nibbles: 20), .ptr),
                check: zoneAnswer(.noError, answers: 1, soa: false, type: .ptr))
        ],
        "PTR for `fd60:627a:a42b::53`": [
            Probe(
                what: "the sentinel's PTR", packet: query(reverse(Demo.serviceAddress, nibbles: 20), .ptr),
                check: zoneAnswer(.noError, answers: 1, soa: false, type: .ptr))
        ],
        "a partial reverse name with addresses below it (`b.2.4.a....` plus some nibbles)": [
            Probe(
                what: "one nibble below the apex", packet: query(reverse(Demo.mywsMain, nibbles: 1), .ptr),
                check: zoneAnswer(.noError, answers: 0, soa: true)),
            Probe(
                what: "19 nibbles", packet: query(reverse(Demo.mywsMain, nibbles: 19), .aaaa), check: zoneAnswer(.noError, answers: 0, soa: true)),
        ],
        "a reverse name with a label that is not one hex digit, or deeper than 32 nibbles": [
            Probe(what: "a label 'x'", packet: query("x." + Demo.reverseApex, .ptr), check: zoneAnswer(.nameError, answers: 0, soa: true)),
            Probe(what: "a label 'ab'", packet: query("ab." + Demo.reverseApex, .ptr), check: zoneAnswer(.nameError, answers: 0, soa: true)),
            Probe(
                what: "33 nibbles", packet: query("0." + reverse(Demo.mywsMain, nibbles: 20), .ptr),
                check: zoneAnswer(.nameError, answers: 0, soa: true)),
        ],
        "AXFR / IXFR": [
            Probe(what: "AXFR over TCP", overTCP: true, packet: query("coder", .axfr), check: refusal(.refused, question: question("coder", .axfr))),
            Probe(what: "IXFR over UDP", packet: query("coder", .ixfr), check: refusal(.refused, question: question("coder", .ixfr))),
        ],
        "MAILA / MAILB": [
            Probe(what: "MAILA", packet: query("myws.coder", .maila), check: refusal(.notImplemented, question: question("myws.coder", .maila))),
            Probe(what: "MAILB", packet: query("myws.coder", .mailb), check: refusal(.notImplemented, question: question("myws.coder", .mailb))),
        ],
        "QTYPE OPT": [Probe(what: "myws.coder OPT", packet: query("myws.coder", .opt), check: headerOnly(.formatError))],
        "a name outside both zones": [
            Probe(what: "example.com AAAA", packet: query("example.com", .aaaa), check: refusal(.refused, question: question("example.com", .aaaa)))
        ],
        "class other than IN (CH, HS, NONE, ANY)": [DNSClass.chaos, .hesiod, .none, .any].map { dnsClass in
            Probe(
                what: "class \(dnsClass.rawValue) with OPT", packet: query("myws.coder", .aaaa, dnsClass, edns: true),
                check: { reply in
                    if let problem = refusal(.refused, question: question("myws.coder", .aaaa, dnsClass))(reply) { return problem }
                    return reply?.edns == nil ? "no OPT echoed" : nil
                })
        },
        "before any workspace data is known": [],  // NoWorkspaceDataTests: needs a server with no data
        "QR=1, or fewer than 12 bytes": [
            Probe(
                what: "QR=1", packet: { try DNSQuery.bytes(id: 0x5151, name: "myws.coder", type: .aaaa, flags: Header.Bit.response) },
                check: { $0 == nil ? nil : "answered" }),
            Probe(what: "11 bytes", packet: { Array(M.header(id: 0x5151, flags: 0, questions: 1)[..<11]) }, check: { $0 == nil ? nil : "answered" }),
        ],
        "opcode other than QUERY": [
            Probe(what: "NOTIFY", packet: { M.header(id: 0x5151, flags: 4 << 11, questions: 1) + M.question }, check: headerOnly(.notImplemented))
        ],
        "QDCOUNT ≠ 1, ANCOUNT or NSCOUNT ≠ 0, a malformed name, a message that ends early, two OPT records, an OPT not owned by the root, badly framed EDNS options, bytes after the last record":
            [
                Probe(what: "QDCOUNT 0", packet: { M.header(id: 0x5151, flags: 0, questions: 0) }, check: headerOnly(.formatError)),
                // An NS record in the authority section, naming the question's name.
                Probe(
                    what: "NSCOUNT 1", packet: withRecord(authority: true, [0xC0, 0x0C, 0, 2, 0, 1, 0, 0, 0, 2, 0, 2, 0xC0, 0x0C]),
                    check: headerOnly(.formatError)),
                // An OPT owned by myws.coder (a pointer to the question's name).
                Probe(
                    what: "an OPT not owned by the root", packet: withRecord([0xC0, 0x0C, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 0]),
                    check: headerOnly(.formatError)),
                // RDLENGTH 4: option 10 (cookie) saying 8 bytes follow, and none do.
                Probe(
                    what: "an option past its OPT", packet: withRecord([0, 0, 41, 0x04, 0xD0, 0, 0, 0, 0, 0, 4, 0, 10, 0, 8]),
                    check: headerOnly(.formatError)),
                Probe(
                    what: "a label running past the end", packet: { M.header(id: 0x5151, flags: 0, questions: 1) + [9, 0x61, 0x62] },
                    check: headerOnly(.formatError)),
                Probe(
                    what: "bytes after the last record", packet: { M.header(id: 0x5151, flags: 0, questions: 1) + M.question + [0] },
                    check: headerOnly(.formatError)),
            ],
    ]

    /// NS: the sentinel, with its AAAA as glue.
    static let nsWithGlue: @Sendable (Message?) -> String? = { reply in
        guard let reply else { return "no reply" }
        if reply.rcode != .noError || !reply.header.isAuthoritative { return "rcode \(reply.rcode), AA \(reply.header.isAuthoritative)" }
        guard reply.answers.count == 1, case .ns(let target) = reply.answers[0].data else { return "answers \(reply.answers)" }
        if target != (try! DomainName(Demo.sentinel)) { return "NS \(target)" }
        if reply.additional.filter({ $0.type == .aaaa }).map(\.name) != [target] { return "glue \(reply.additional)" }
        return nil
    }

    /// The first cells of the "Every kind of query" table.
    static func documentedRows() throws -> [String] {
        let text = try String(contentsOf: IntegrationEnvironment.repositoryRoot.appendingPathComponent("docs/behaviour.md"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard let start = lines.firstIndex(of: "## Every kind of query") else { throw HarnessError("no query table in docs/behaviour.md") }
        var rows: [String] = []
        for line in lines[(start + 1)...] {
            if line.hasPrefix("##") { break }
            guard line.hasPrefix("| "), !line.hasPrefix("|---"), !line.hasPrefix("| query |") else { continue }
            rows.append(line.dropFirst(2).split(separator: "|", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "")
        }
        return rows
    }

    @Test func everyRowOfTheTableHasACaseAndEveryCaseARow() throws {
        let documented = try Self.documentedRows()
        #expect(documented.count >= 20, "\(documented)")
        for row in documented { #expect(Self.rows[row] != nil, "docs/behaviour.md row with no case: \(row)") }
        for row in Self.rows.keys { #expect(documented.contains(row), "a case for a row docs/behaviour.md does not have: \(row)") }
    }

    @Test func everyRowIsAnsweredAsDocumented() throws {
        try ServerProcess.withServer { server in
            for (row, probes) in Self.rows.sorted(by: { $0.key < $1.key }) {
                for probe in probes {
                    let packet = try probe.packet()
                    let reply: Message?
                    if probe.overTCP {
                        let socket = try RawSocket(.tcp, to: .ipv4, port: server.port)
                        try socket.send(DNSQuery.framed(packet))
                        reply = try Message(bytes: try socket.receiveMessage())
                    } else {
                        let socket = try RawSocket(.udp, to: .ipv4, port: server.port)
                        try socket.send(packet)
                        reply = try socket.receiveDatagram(timeout: 0.5).map { try Message(bytes: $0) }
                    }
                    if let reply, reply.header.id != 0x5151 { Issue.record("\(row): \(probe.what): reply ID \(reply.header.id)") }
                    if let problem = probe.check(reply) { Issue.record("\(row): \(probe.what): \(problem)") }
                }
            }
        }
    }

    /// A one-question query can only point into the header: here the ID is the label "x" and
    /// the first flags byte (0) ends the name, so the question is `myws` + a pointer to
    /// offset 0, that is `myws.x.` (outside the zones). It is echoed written out in full.
    @Test func aCompressedQuestionIsEchoedDecompressed() throws {
        try ServerProcess.withServer { server in
            let id: UInt16 = 0x0178  // 01 78: a label of one byte, "x"
            let packet = M.header(id: id, flags: 0, questions: 1) + [4] + Array("myws".utf8) + [0xC0, 0x00, 0x00, 0x1C, 0x00, 0x01]
            let socket = try RawSocket(.udp, to: .ipv4, port: server.port)
            try socket.send(packet)
            let bytes = try #require(try socket.receiveDatagram(timeout: 2), "no reply")
            let reply = try Message(bytes: bytes)
            #expect(reply.rcode == .refused)
            #expect(reply.questions == [Self.question("myws.x", .aaaa)])
            // The question's bytes: the name in full, no pointer.
            #expect(Array(bytes[12...]).starts(with: [4] + Array("myws".utf8) + [1, 0x78, 0, 0x00, 0x1C, 0x00, 0x01]), "\(Hex.string(bytes))")
        }
    }

    /// A name with 2,400 addresses: 67,000 bytes of AAAA records, more than a TCP message can
    /// carry, so the reply is SERVFAIL (a well-formed query always gets an answer).
    @Test func aTCPReplyOver65535BytesIsSERVFAIL() throws {
        let directory = try IntegrationEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("giant.json").path
        let workspaces = (0..<2400).map { index in
            let tail = String(format: "%012x", index)
            return
                #"{"id": "b0000000-0000-4000-8000-\#(tail)", "name": "giant", "status": "RUNNING", "agents": [{"id": "a0000000-0000-4000-8000-\#(tail)", "name": "main"}]}"#
        }
        try #"{"workspaces": [\#(workspaces.joined(separator: ",\n"))]}"#.write(toFile: path, atomically: true, encoding: .utf8)
        try ServerProcess.withServer(snapshot: path) { server in
            let socket = try RawSocket(.tcp, to: .ipv4, port: server.port)
            try socket.send(DNSQuery.framed(try DNSQuery.bytes(id: 9, name: "main.giant.me.coder", type: .aaaa)))
            let reply = try Message(bytes: try socket.receiveMessage())
            #expect(reply.header.id == 9)
            #expect(reply.rcode == .serverFailure)
            #expect(reply.answers.isEmpty)
            // The same name's NODATA fits: only the oversized reply is replaced.
            try socket.send(DNSQuery.framed(try DNSQuery.bytes(id: 10, name: "main.giant.me.coder", type: .a)))
            #expect(try Message(bytes: try socket.receiveMessage()).rcode == .noError)
        }
    }
}
