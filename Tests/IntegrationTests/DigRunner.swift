import Foundation
import Testing

/// A record line of dig's or kdig's output: `name TTL class type data...`.
struct DigRecord: Sendable, Equatable, CustomStringConvertible {
    let name: String
    let ttl: Int
    let recordClass: String
    let type: String
    /// The RDATA fields joined by single spaces.
    let data: String

    var fields: [String] { data.split(separator: " ").map(String.init) }
    var description: String { "\(name) \(ttl) \(recordClass) \(type) \(data)" }

    init?(line: String) {
        let parts = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count >= 5, let ttl = Int(parts[1]) else { return nil }
        name = parts[0]
        self.ttl = ttl
        recordClass = parts[2]
        type = parts[3]
        data = parts[4...].joined(separator: " ")
    }
}

/// The question section's line: `;name class type`.
struct DigQuestion: Sendable, Equatable {
    let name: String
    let recordClass: String
    let type: String

    init?(line: String) {
        let parts = line.drop(while: { $0 == ";" || $0 == " " }).split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard parts.count == 3 else { return nil }
        name = parts[0]
        recordClass = parts[1]
        type = parts[2]
    }
}

/// The EDNS pseudo-section: dig's `; EDNS: version: 0, flags: do; udp: 1232` or kdig's
/// `;; Version: 0; flags: do; UDP size: 1232 B; ext-rcode: NOERROR`.
struct DigOPT: Sendable, Equatable {
    var version: Int?
    var flags: Set<String> = []
    var udpSize: Int?
}

/// dig's or kdig's answer, read from its text output. When the tool printed several
/// answers (dig retrying over TCP after TC=1), the last one is read.
struct DigResult: CustomStringConvertible {
    let output: String
    let exitStatus: Int32
    /// `NOERROR`, `NXDOMAIN`, ...; nil when the tool got no answer.
    private(set) var status: String?
    private(set) var flags: Set<String> = []
    /// QUERY, ANSWER, AUTHORITY, ADDITIONAL as the header states them.
    private(set) var counts: [String: Int] = [:]
    private(set) var opt: DigOPT?
    private(set) var question: [DigQuestion] = []
    private(set) var answer: [DigRecord] = []
    private(set) var authority: [DigRecord] = []
    private(set) var additional: [DigRecord] = []
    /// "UDP" or "TCP", from dig's `;; SERVER:` or kdig's `;; From` line.
    private(set) var transport: String?
    /// dig's "Truncated, retrying in TCP mode." (anywhere in the output).
    let retriedOverTCP: Bool

    var description: String { "exit status \(exitStatus), output:\n\(output)" }

    /// The SOA in the authority section, split into its fields, if there is exactly one.
    var authoritySOA: DigRecord? {
        let records = authority.filter { $0.type == "SOA" }
        return records.count == 1 ? records[0] : nil
    }

    init(output: String, exitStatus: Int32) {
        self.output = output
        self.exitStatus = exitStatus
        retriedOverTCP = output.contains("Truncated, retrying in TCP mode")
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard let start = lines.lastIndex(where: { $0.contains("->>HEADER<<-") }) else { return }

        enum Section {
            case none, opt, question, answer, authority, additional
        }
        var section = Section.none
        for line in lines[start...] {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.isEmpty {
                section = .none
                continue
            }
            if text.contains("->>HEADER<<-") {
                if let match = text.firstMatch(of: /status: ([A-Z0-9]+)/) { status = String(match.1) }
                continue
            }
            if text.lowercased().hasPrefix(";; flags:") {
                if let match = text.firstMatch(of: /[Ff]lags:([^;]*);/) {
                    flags = Set(match.1.split(separator: " ").map(String.init))
                }
                for match in text.matches(of: /(QUERY|ANSWER|AUTHORITY|ADDITIONAL): (\d+)/) {
                    counts[String(match.1)] = Int(match.2)
                }
                continue
            }
            if text.contains("OPT PSEUDOSECTION") || text.contains("EDNS PSEUDOSECTION") {
                section = .opt
                opt = DigOPT()
                continue
            }
            if text.hasPrefix(";; "), text.hasSuffix(" SECTION:") {
                switch text {
                case ";; QUESTION SECTION:": section = .question
                case ";; ANSWER SECTION:": section = .answer
                case ";; AUTHORITY SECTION:": section = .authority
                case ";; ADDITIONAL SECTION:": section = .additional
                default: section = .none
                }
                continue
            }
            if text.hasPrefix(";; SERVER:") || text.hasPrefix(";; From ") {
                if text.contains("(TCP)") { transport = "TCP" } else if text.contains("(UDP)") { transport = "UDP" }
                continue
            }
            switch section {
            case .opt:
                if let match = text.firstMatch(of: /[Vv]ersion: (\d+)/) { opt?.version = Int(match.1) }
                if text.contains("ersion:"), let match = text.firstMatch(of: /flags:([^;]*);/) {
                    opt?.flags = Set(match.1.split(separator: " ").map(String.init))
                }
                if let match = text.firstMatch(of: /(?:udp|UDP size): (\d+)/) { opt?.udpSize = Int(match.1) }
            case .question:
                if let entry = DigQuestion(line: text) { question.append(entry) }
            case .answer, .authority, .additional:
                guard !text.hasPrefix(";"), let record = DigRecord(line: text) else { continue }
                switch section {
                case .answer: answer.append(record)
                case .authority: authority.append(record)
                default: additional.append(record)
                }
            case .none:
                continue
            }
        }
    }
}

/// Runs `dig` or `kdig` against one server.
struct DNSLookup {
    enum Tool: Sendable, CustomStringConvertible {
        case dig, kdig

        var path: String { self == .dig ? IntegrationEnvironment.dig : IntegrationEnvironment.kdig }
        var description: String { self == .dig ? "dig" : "kdig" }

        /// One try, a 2 s timeout, no RD; dig prints every section with its heading.
        var baseOptions: [String] {
            switch self {
            case .dig:
                ["+tries=1", "+timeout=2", "+norec", "+noall", "+comments", "+question", "+answer", "+authority", "+additional", "+stats"]
            case .kdig:
                ["+retry=0", "+timeout=2", "+norec"]
            }
        }
    }

    let tool: Tool
    let server: String
    let port: UInt16
    /// When set, the tool runs inside this network namespace (`ip netns exec`).
    var namespace: String? = nil

    /// Runs the tool with `arguments` (name, type, options) after the base options.
    func callAsFunction(_ arguments: [String]) throws -> DigResult {
        // This machine routes fd60:627a:a42b::/48 off the box: a packet to it may only leave
        // from inside a test's own network namespace.
        if namespace == nil, server.lowercased().hasPrefix("fd60:627a:a42b") {
            throw HarnessError("refusing to query \(server) outside a test network namespace")
        }
        let toolArguments = ["@\(server)", "-p", "\(port)"] + tool.baseOptions + arguments
        let output: CommandOutput
        if let namespace {
            output = try CommandRunner.run(IntegrationEnvironment.ip, ["netns", "exec", namespace, tool.path] + toolArguments)
        } else {
            output = try CommandRunner.run(tool.path, toolArguments)
        }
        let result = DigResult(output: output.standardOutput + output.standardError, exitStatus: output.status)
        // The parser checks itself: the records it read must be as many as the header says.
        if result.status != nil {
            let parsed = ["ANSWER": result.answer.count, "AUTHORITY": result.authority.count]
            let stated = ["ANSWER": result.counts["ANSWER"] ?? -1, "AUTHORITY": result.counts["AUTHORITY"] ?? -1]
            if parsed != stated {
                Issue.record("\(tool) output read as \(parsed) records, but its header says \(stated):\n\(result.output)")
            }
        }
        return result
    }
}

extension ServerProcess {
    func dig(_ arguments: String..., over address: LoopbackAddress = .ipv4) throws -> DigResult {
        try DNSLookup(tool: .dig, server: address.rawValue, port: port)(arguments)
    }

    func dig(_ arguments: [String], over address: LoopbackAddress = .ipv4) throws -> DigResult {
        try DNSLookup(tool: .dig, server: address.rawValue, port: port)(arguments)
    }

    func kdig(_ arguments: String..., over address: LoopbackAddress = .ipv4) throws -> DigResult {
        try DNSLookup(tool: .kdig, server: address.rawValue, port: port)(arguments)
    }

    func kdig(_ arguments: [String], over address: LoopbackAddress = .ipv4) throws -> DigResult {
        try DNSLookup(tool: .kdig, server: address.rawValue, port: port)(arguments)
    }
}

/// The demo state's names and addresses (`Fixtures/demo-snapshot.json`, owner alice).
enum Demo {
    /// Agent a1b2c3d4-e5f6-4711-8899-aabbccddeeff (main of myws): bytes 6..15 of the UUID.
    static let mywsMain = "fd60:627a:a42b:4711:8899:aabb:ccdd:eeff"
    /// Agent 01020304-0506-0708-090a-0b0c0d0e0f10 (main of dev).
    static let devMain = "fd60:627a:a42b:708:90a:b0c:d0e:f10"
    /// Agent c0ffee00-1234-4abc-9def-00112233aabb (gpu of dev).
    static let devGPU = "fd60:627a:a42b:4abc:9def:11:2233:aabb"
    static let sentinel = "is.coder--connect--enabled--right--now.coder"
    static let serviceAddress = "fd60:627a:a42b::53"
    static let reverseApex = "b.2.4.a.a.7.2.6.0.6.d.f.ip6.arpa."
}

/// Checks shared by the dig and kdig suites.
enum Expect {
    /// SOA RDATA: MNAME the sentinel, RNAME hostmaster.<suffix>, a serial, 3600 600 86400 2.
    static func isZoneSOA(_ record: DigRecord?, owner: String = "coder.") -> Bool {
        guard let record, record.type == "SOA", record.ttl == 2, record.name.lowercased() == owner else { return false }
        let fields = record.fields
        guard fields.count == 7, let serial = Int(fields[2]), serial >= 1 else { return false }
        return fields[0] == Demo.sentinel + "." && fields[1] == "hostmaster.coder."
            && Array(fields[3...]) == ["3600", "600", "86400", "2"]
    }

    static func serial(_ record: DigRecord?) -> Int? {
        guard let record, record.type == "SOA", record.fields.count == 7 else { return nil }
        return Int(record.fields[2])
    }

    static func sameAddress(_ text: String, _ expected: String) -> Bool {
        guard let left = ipv6Bytes(text), let right = ipv6Bytes(expected) else { return false }
        return left == right
    }
}
