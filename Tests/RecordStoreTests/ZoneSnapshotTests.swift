import DNSWire
import RecordStore
import TestSupport
import Testing

@Suite("Names computed from workspace state")
struct ZoneSnapshotTests {
    static let configuration = try! ZoneConfiguration(suffix: "coder", owner: "alice")

    static func state(_ workspaces: [(String, String, [(String, String)])]) -> WorkspaceState {
        var state = WorkspaceState()
        for (id, name, agents) in workspaces {
            let workspaceID = Identifier(string: id)!
            state.workspaces[workspaceID] = Workspace(id: workspaceID, name: name, status: .running)
            for (agentID, agentName) in agents {
                let agent = Identifier(string: agentID)!
                state.agents[agent] = Agent(id: agent, name: agentName, workspaceID: workspaceID)
            }
        }
        return state
    }

    static let demo = state([
        ("3f1d9a2e-7b4c-4e8a-9f10-112233445566", "myws", [("a1b2c3d4-e5f6-4711-8899-aabbccddeeff", "main")]),
        (
            "5e0c2b7a-1d3f-4a6b-8c9d-0e1f2a3b4c5d", "dev",
            [("01020304-0506-0708-090a-0b0c0d0e0f10", "main"), ("c0ffee00-1234-4abc-9def-00112233aabb", "gpu")]
        ),
        ("7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", "empty", []),
    ])

    /// The labels of `name` below the apex as a lookup key (lower-cased wire labels).
    static func key(_ labels: String) -> [UInt8] {
        guard !labels.isEmpty else { return [] }
        return labels.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.lowercased().utf8) }
    }

    static func forward(_ snapshot: ZoneSnapshot, _ labels: String) -> ZoneSnapshot.ForwardResult {
        key(labels).withUnsafeBytes { snapshot.lookupForward(relativeName: $0) }
    }

    static func reverse(_ snapshot: ZoneSnapshot, _ labels: String) -> ZoneSnapshot.ReverseResult {
        key(labels).withUnsafeBytes { snapshot.lookupReverse(relativeName: $0) }
    }

    /// The addresses a host entry answers with.
    static func addresses(_ snapshot: ZoneSnapshot, _ labels: String) -> [String] {
        let records = snapshot.withAnswerRecords(of: forward(snapshot, labels)) { records, _ in Array(records) } ?? []
        return stride(from: 0, to: records.count, by: ZoneSnapshot.answerRecordLength).map { offset in
            let bytes = Array(records[(offset + 12)..<(offset + 28)])
            return IPv6Address(high: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
                .description
        }
    }

    @Test func everyNameFormIsServed() {
        let snapshot = ZoneSnapshot(state: Self.demo, configuration: Self.configuration, serial: 1)
        #expect(snapshot.hasData)
        let main = ["fd60:627a:a42b:4711:8899:aabb:ccdd:eeff"]
        #expect(Self.addresses(snapshot, "main.myws.me") == main)
        #expect(Self.addresses(snapshot, "main.myws.alice") == main)
        #expect(Self.addresses(snapshot, "myws") == main)
        #expect(Self.addresses(snapshot, "main.dev.me") == ["fd60:627a:a42b:708:90a:b0c:d0e:f10"])
        #expect(Self.addresses(snapshot, "gpu.dev.alice") == ["fd60:627a:a42b:4abc:9def:11:2233:aabb"])
        #expect(Self.addresses(snapshot, "is.coder--connect--enabled--right--now") == ["fd60:627a:a42b:0:0:0:0:53"])
    }

    @Test("A workspace name of one agent is answered from the index alone, with the bytes its answer record holds")
    func aSingleAgentNameIsAnsweredFromItsIndexRecord() {
        let snapshot = ZoneSnapshot(state: Self.demo, configuration: Self.configuration, serial: 1)
        // myws has one agent: all three of its names come from its table record.
        let address = IPv6Address(high: 0xfd60_627a_a42b_4711, low: 0x8899_aabb_ccdd_eeff)
        for labels in ["myws", "main.myws.me", "main.myws.alice", "MAIN.MyWs.Me"] {
            #expect(Self.forward(snapshot, labels) == .hostAddress(address), "\(labels)")
        }
        #expect(Self.forward(snapshot, "gpu.myws.me") == .absent)
        #expect(Self.forward(snapshot, "myws.me") == .emptyNonTerminal)
        // dev has two agents: its names keep their entries in the answer records.
        guard case .host = Self.forward(snapshot, "main.dev.me") else {
            Issue.record("main.dev.me: \(Self.forward(snapshot, "main.dev.me"))")
            return
        }
        // The record written for an answer is the one the build stores for that address.
        let listed = snapshot.hostNames().first { $0.name == "myws.coder." }
        #expect(listed?.addresses == [address])
        var stored: [UInt8] = []
        for offset in stride(from: 0, to: snapshot.answerRecords.count, by: ZoneSnapshot.answerRecordLength) {
            let record = Array(snapshot.answerRecords[offset..<(offset + ZoneSnapshot.answerRecordLength)])
            if record.suffix(16) == address.bytes[...] { stored = record }
        }
        #expect(stored.count == ZoneSnapshot.answerRecordLength)
        #expect(ZoneSnapshot.withAnswerRecord(for: address) { Array($0) } == stored)
        #expect(stored.prefix(12) == [0xC0, 0x0C, 0, 28, 0, 1, 0, 0, 0, 2, 0, 16])
    }

    @Test func aWorkspaceWithSeveralAgentsOrNoneHasNoShortName() {
        let snapshot = ZoneSnapshot(state: Self.demo, configuration: Self.configuration, serial: 1)
        #expect(Self.forward(snapshot, "dev") == .absent)
        #expect(Self.forward(snapshot, "empty") == .absent)
    }

    @Test func namesAboveHostsAreEmptyNonTerminals() {
        let snapshot = ZoneSnapshot(state: Self.demo, configuration: Self.configuration, serial: 1)
        for name in ["me", "alice", "myws.me", "dev.alice", "coder--connect--enabled--right--now"] {
            #expect(Self.forward(snapshot, name) == .emptyNonTerminal, "\(name)")
        }
        #expect(Self.forward(snapshot, "") == .apex)
        #expect(Self.forward(snapshot, "bob") == .absent)
        #expect(Self.forward(snapshot, "x.main.myws.me") == .absent)
    }

    @Test func withNoWorkspacesOnlyTheSentinelExists() {
        let snapshot = ZoneSnapshot(state: WorkspaceState(), configuration: Self.configuration, serial: 1)
        #expect(snapshot.hasData)
        #expect(Self.addresses(snapshot, "is.coder--connect--enabled--right--now").count == 1)
        #expect(Self.forward(snapshot, "me") == .absent)
    }

    @Test func workspacesSharingANameShareTheShortNameWithEveryAddress() {
        let state = Self.state([
            ("00000000-0000-4000-8000-000000000001", "twin", [("10000000-0000-4000-8000-000000000001", "main")]),
            ("00000000-0000-4000-8000-000000000002", "twin", [("10000000-0000-4000-8000-000000000002", "main")]),
        ])
        let snapshot = ZoneSnapshot(state: state, configuration: Self.configuration, serial: 1)
        #expect(Set(Self.addresses(snapshot, "twin")) == ["fd60:627a:a42b:4000:8000:0:0:1", "fd60:627a:a42b:4000:8000:0:0:2"])
        #expect(Set(Self.addresses(snapshot, "main.twin.me")).count == 2)
    }

    @Test func aShortNameAnswersOnlyForTheSingleAgentWorkspacesOfThatName() {
        let state = Self.state([
            ("00000000-0000-4000-8000-000000000001", "twin", [("10000000-0000-4000-8000-000000000001", "main")]),
            (
                "00000000-0000-4000-8000-000000000002", "twin",
                [("10000000-0000-4000-8000-000000000002", "main"), ("10000000-0000-4000-8000-000000000003", "gpu")]
            ),
        ])
        let snapshot = ZoneSnapshot(state: state, configuration: Self.configuration, serial: 1)
        #expect(Self.addresses(snapshot, "twin") == ["fd60:627a:a42b:4000:8000:0:0:1"])
        #expect(Set(Self.addresses(snapshot, "main.twin.alice")) == ["fd60:627a:a42b:4000:8000:0:0:1", "fd60:627a:a42b:4000:8000:0:0:2"])
        #expect(Self.addresses(snapshot, "gpu.twin.me") == ["fd60:627a:a42b:4000:8000:0:0:3"])
        #expect(Self.forward(snapshot, "twin.me") == .emptyNonTerminal)
        #expect(Self.forward(snapshot, "cpu.twin.me") == .absent)
        #expect(Self.forward(snapshot, "main.twin.bob") == .absent)
        #expect(Self.forward(snapshot, "twin.bob") == .absent)
    }

    @Test func aWorkspaceNamedLikeTheOwnerIsBothAHostAndAnEmptyNonTerminal() {
        let state = Self.state([("00000000-0000-4000-8000-000000000001", "alice", [("10000000-0000-4000-8000-000000000001", "main")])])
        let snapshot = ZoneSnapshot(state: state, configuration: Self.configuration, serial: 1)
        #expect(Self.addresses(snapshot, "alice") == ["fd60:627a:a42b:4000:8000:0:0:1"])
        #expect(Self.addresses(snapshot, "main.alice.alice") == ["fd60:627a:a42b:4000:8000:0:0:1"])
        #expect(Self.forward(snapshot, "alice.alice") == .emptyNonTerminal)
        #expect(Self.forward(snapshot, "me") == .emptyNonTerminal)
    }

    @Test func namesDeeperThanThreeLabelsOrOfOtherShapesAreAbsent() {
        let snapshot = ZoneSnapshot(state: Self.demo, configuration: Self.configuration, serial: 1)
        for name in ["a.main.myws.me", "main.myws.x", "x.coder--connect--enabled--right--now", "is.me", "main.me", "myws.myws"] {
            #expect(Self.forward(snapshot, name) == .absent, "\(name)")
        }
        #expect(snapshot.nameCount == 1 + 3 + 2 * 2)
    }

    @Test func anOwnerNamedMeDoesNotDuplicateAddresses() throws {
        let configuration = try ZoneConfiguration(suffix: "coder", owner: "me")
        let snapshot = ZoneSnapshot(state: Self.demo, configuration: configuration, serial: 1)
        #expect(Self.addresses(snapshot, "main.myws.me") == ["fd60:627a:a42b:4711:8899:aabb:ccdd:eeff"])
    }

    @Test func aMultiLabelSuffixWorks() throws {
        let configuration = try ZoneConfiguration(suffix: "Coder.Example.", owner: "alice")
        #expect(configuration.suffix == (try DomainName("coder.example.")))
        let snapshot = ZoneSnapshot(state: Self.demo, configuration: configuration, serial: 1)
        #expect(Self.addresses(snapshot, "myws").count == 1)
        #expect(snapshot.forwardApex == (try DomainName("coder.example.")).wire)
    }

    @Test func reverseNamesFindAgentsByNibbles() throws {
        let snapshot = ZoneSnapshot(state: Self.demo, configuration: Self.configuration, serial: 1)
        let nibbles = "0.1.f.0.e.0.d.0.c.0.b.0.a.0.9.0.8.0.7.0"
        guard case .pointer(let target) = Self.reverse(snapshot, nibbles) else {
            Issue.record("no PTR for the agent address")
            return
        }
        #expect(snapshot.name(of: target) == (try DomainName("main.dev.alice.coder.")).wire)
        #expect(snapshot.length(of: target) == (try DomainName("main.dev.alice.coder.")).wire.count)
        #expect(Self.reverse(snapshot, nibbles.uppercased()) == Self.reverse(snapshot, nibbles))
        #expect(Self.reverse(snapshot, "8.0.7.0") == .emptyNonTerminal)
        #expect(Self.reverse(snapshot, "9.0.7.0") == .absent)
        #expect(Self.reverse(snapshot, "") == .apex)
        #expect(Self.reverse(snapshot, "1." + nibbles) == .absent)
        #expect(Self.reverse(snapshot, "zz.1.f.0.e.0.d.0.c.0.b.0.a.0.9.0.8.0.7.0") == .absent)
        guard case .pointer(let sentinel) = Self.reverse(snapshot, "3.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0") else {
            Issue.record("no PTR for the resolver address")
            return
        }
        #expect(snapshot.name(of: sentinel) == Self.configuration.sentinel.wire)
    }

    @Test func aSharedAddressAlwaysPointsToTheLowestAgentID() throws {
        // Two agents whose UUIDs agree in bytes 6..15 get the same address.
        let state = Self.state([
            ("00000000-0000-4000-8000-000000000001", "one", [("ffffffff-ffff-4711-8899-aabbccddeeff", "b")]),
            ("00000000-0000-4000-8000-000000000002", "two", [("00000000-0000-4711-8899-aabbccddeeff", "a")]),
        ])
        for _ in 0..<5 {
            let snapshot = ZoneSnapshot(state: state, configuration: Self.configuration, serial: 1)
            guard case .pointer(let target) = Self.reverse(snapshot, "f.f.e.e.d.d.c.c.b.b.a.a.9.9.8.8.1.1.7.4") else {
                Issue.record("no PTR")
                return
            }
            #expect(snapshot.name(of: target) == (try DomainName("a.two.alice.coder.")).wire)
        }
    }

    @Test func everyAgentOfAThousandsFindsItsOwnPTRAndOthersDoNot() throws {
        // Random identifiers, so the reverse zone's order (a radix sort) is all its own work;
        // some share a top address byte, so range checks meet neighbours.
        var generator = SeededGenerator(seed: 0x3000_A6E7)
        var state = WorkspaceState()
        var expected: [(nibbles: String, name: [UInt8])] = []
        for index in 0..<3000 {
            let workspace = Identifier(high: .random(in: 0...UInt64.max, using: &generator), low: .random(in: 0...UInt64.max, using: &generator))
            let agent = Identifier(high: UInt64(index % 7) << 8, low: .random(in: 0...UInt64.max, using: &generator))
            state.workspaces[workspace] = Workspace(id: workspace, name: "w\(index)", status: .running)
            state.agents[agent] = Agent(id: agent, name: "a\(index % 5)", workspaceID: workspace)
            let address = ServiceAddress.agent(agent)
            let nibbles = address.nibbles[12...].reversed().map { String($0, radix: 16) }.joined(separator: ".")
            expected.append((nibbles, try DomainName("a\(index % 5).w\(index).alice.coder.").wire))
        }
        let snapshot = ZoneSnapshot(state: state, configuration: Self.configuration, serial: 1)
        #expect(snapshot.addressCount == 3001)
        for (nibbles, name) in expected {
            guard case .pointer(let target) = Self.reverse(snapshot, nibbles) else {
                Issue.record("no PTR for \(nibbles)")
                continue
            }
            #expect(snapshot.name(of: target) == name)
            // The same address with its lowest nibble changed is (almost surely) no one's.
            let last = nibbles.first == "0" ? "1" : "0"
            let other = last + nibbles.dropFirst()
            if !expected.contains(where: { $0.nibbles == other }) { #expect(Self.reverse(snapshot, other) == .absent) }
        }
    }

    @Test func anEmptySnapshotHasNoData() {
        #expect(!ZoneSnapshot.empty(configuration: Self.configuration).hasData)
    }

    @Test("bad suffixes are rejected", arguments: ["", ".", "co der", "a..b", "cöder", String(repeating: "a", count: 64)])
    func badSuffix(text: String) {
        #expect(throws: ZoneConfiguration.Problem.self) { try ZoneConfiguration(suffix: text, owner: "alice") }
    }

    @Test("bad owners are rejected", arguments: ["", "al ice", "a.b", "ålice", "tab\t", String(repeating: "a", count: 64)])
    func badOwner(text: String) {
        #expect(throws: ZoneConfiguration.Problem.self) { try ZoneConfiguration(suffix: "coder", owner: text) }
    }

    @Test("owners and suffix labels follow the agents' label rule", arguments: ["alice_", "9lives", "-a", "_"])
    func ownersAndSuffixesLikeAgentNames(text: String) throws {
        #expect(try ZoneConfiguration(suffix: "coder", owner: text).owner == text)
        let configuration = try ZoneConfiguration(suffix: "x." + text.uppercased(), owner: "alice")
        #expect(configuration.suffix == (try DomainName("x.\(text)")))
    }
}
