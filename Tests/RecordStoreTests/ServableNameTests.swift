import DNSWire
import Foundation
import RecordStore
import Testing

/// Names as Coder sends them: which are served, which are left out, and that one odd name
/// takes nothing else down.
@Suite("Names as Coder allows them")
struct ServableNameTests {
    typealias Z = ZoneSnapshotTests
    static let configuration = Z.configuration

    @Test(
        "labels Coder accepts are servable",
        arguments: ["dev_box", "main_agent-1", "9lives", "UPPER", "a", "_x", "x-", "-", String(repeating: "z", count: 63)])
    func servable(label: String) {
        #expect(DNSLabel.problem(with: label) == nil)
    }

    @Test(
        "names that cannot be a label are not",
        arguments: ["", "dev.box", "dev box", "tab\t", "nul\0", "ünï", String(repeating: "z", count: 64), "a/b", "a@b"])
    func unservable(label: String) {
        #expect(DNSLabel.problem(with: label) != nil)
    }

    @Test func eachServableByteIsALetterDigitHyphenOrUnderscore() {
        for byte in UInt8.min...UInt8.max {
            let expected =
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte == 0x2D || byte == 0x5F
            #expect(DNSLabel.isServable(byte) == expected, "\(byte)")
        }
    }

    /// A one-label key (`[length] + bytes`) followed by the labels of `rest`.
    static func key(_ first: String, _ rest: String) -> [UInt8] { [UInt8(first.utf8.count)] + Array(first.utf8) + Z.key(rest) }

    static let fixture = Z.state([
        (
            "3f1d9a2e-7b4c-4e8a-9f10-112233445566", "main-workspace",
            [
                ("a1b2c3d4-e5f6-4711-8899-aabbccddeeff", "main_agent-1"),
                ("a1b2c3d4-e5f6-4711-8899-000000000002", String(repeating: "a", count: 64)),
                ("a1b2c3d4-e5f6-4711-8899-000000000003", "dev.box"),
            ]
        ),
        ("3f1d9a2e-7b4c-4e8a-9f10-000000000002", "dev_box", [("a1b2c3d4-e5f6-4711-8899-000000000004", "dev_box")]),
        ("3f1d9a2e-7b4c-4e8a-9f10-000000000003", "9lives", [("a1b2c3d4-e5f6-4711-8899-000000000005", "upper")]),
        ("3f1d9a2e-7b4c-4e8a-9f10-000000000004", "my.ws", [("a1b2c3d4-e5f6-4711-8899-000000000006", "main")]),
    ])

    /// What the fixture's snapshot must answer, however it was loaded.
    static func expectFixtureAnswers(_ snapshot: ZoneSnapshot, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(snapshot.skippedAgents == 3, sourceLocation: sourceLocation)
        for (name, address) in [
            ("main_agent-1.main-workspace.me", "fd60:627a:a42b:4711:8899:aabb:ccdd:eeff"),
            ("main_agent-1.main-workspace.alice", "fd60:627a:a42b:4711:8899:aabb:ccdd:eeff"),
            ("DEV_BOX.dev_box.alice", "fd60:627a:a42b:4711:8899:0:0:4"),
            ("dev_box", "fd60:627a:a42b:4711:8899:0:0:4"),
            ("upper.9lives.me", "fd60:627a:a42b:4711:8899:0:0:5"),
            ("9lives", "fd60:627a:a42b:4711:8899:0:0:5"),
            // The skipped agents do not count: main_agent-1 is the workspace's only agent served.
            ("main-workspace", "fd60:627a:a42b:4711:8899:aabb:ccdd:eeff"),
        ] {
            #expect(Z.addresses(snapshot, name) == [address], "\(name)", sourceLocation: sourceLocation)
        }
        for key in [
            Self.key(String(repeating: "a", count: 64), "main-workspace.me"), Self.key("dev.box", "main-workspace.me"),
            Z.key("box.main-workspace.me"), Z.key("main") + Self.key("my.ws", "me"), Z.key("main.ws.me"), Self.key("my.ws", ""),
        ] {
            let result = key.withUnsafeBytes { snapshot.lookupForward(relativeName: $0) }
            #expect(result == .absent, "\(key)", sourceLocation: sourceLocation)
        }
        for agent in ["000000000002", "000000000003", "000000000006"] {
            let address = ServiceAddress.agent(Identifier(string: "a1b2c3d4-e5f6-4711-8899-" + agent)!)
            let nibbles = address.nibbles[12...].reversed().map { String($0, radix: 16) }.joined(separator: ".")
            #expect(Z.reverse(snapshot, nibbles) == .absent, "\(agent)", sourceLocation: sourceLocation)
        }
    }

    @Test func theBuilderServesEveryOtherNameAndCountsTheSkipped() {
        Self.expectFixtureAnswers(ZoneSnapshot(state: Self.fixture, configuration: Self.configuration, serial: 1))
    }

    static var fixturePath: String { StateFileTests.fixtures.appendingPathComponent("state-unservable-names.json").path }

    @Test func aStateFileWithUnservableNamesLoadsAndReportsEachSkippedAgent() throws {
        let loaded = try StateFile.load(path: Self.fixturePath, configuration: Self.configuration)
        // Every record is kept, lower-cased, servable or not.
        #expect(loaded.state.workspaces.count == 4 && loaded.state.agents.count == 6)
        #expect(Set(loaded.state.workspaces.values.map(\.name)) == ["main-workspace", "dev_box", "9lives", "my.ws"])
        #expect(loaded.state.agents[Identifier(string: "a1b2c3d4-e5f6-4711-8899-000000000005")!]?.name == "upper")
        #expect(
            loaded.skipped == [
                SkippedAgent(
                    location: "workspaces[0].agents[1]", reason: "the agent name \"\(String(repeating: "a", count: 64))\" is longer than 63 bytes"),
                SkippedAgent(location: "workspaces[0].agents[2]", reason: "the agent name \"dev.box\" has a '.' in it"),
                SkippedAgent(location: "workspaces[3].agents[0]", reason: "the workspace name \"my.ws\" has a '.' in it"),
            ])
        let snapshot = ZoneSnapshot(state: loaded.state, configuration: Self.configuration, serial: 1)
        Self.expectFixtureAnswers(snapshot)
        // Read straight into a snapshot: the same answers, the same report.
        let direct = try StateFile.loadSnapshot(path: Self.fixturePath, configuration: Self.configuration, serial: 1)
        #expect(direct.skipped == loaded.skipped)
        #expect(direct.workspaces == 4 && direct.agents == 6)
        Self.expectFixtureAnswers(direct.snapshot)
        #expect(direct.snapshot.answerRecords == snapshot.answerRecords)
        #expect(direct.snapshot.nameCount == snapshot.nameCount)
    }

    @Test func aLongOwnerSkipsOnlyTheNamesThatWouldExceed255Bytes() throws {
        // 3 + 63 (agent) + 63 (owner) + 124 (suffix wire) = 253: a workspace name of 2 bytes
        // fits (255), one of 3 does not.
        let suffix = String(repeating: "b", count: 60) + "." + String(repeating: "c", count: 61)
        let configuration = try ZoneConfiguration(suffix: suffix, owner: String(repeating: "o", count: 63))
        #expect(configuration.suffix.wire.count == 124)
        let agent = String(repeating: "a", count: 63)
        let state = Z.state([
            ("00000000-0000-4000-8000-000000000001", "ws", [("10000000-0000-4000-8000-000000000001", agent)]),
            (
                "00000000-0000-4000-8000-000000000002", "wsx",
                [("10000000-0000-4000-8000-000000000002", agent), ("10000000-0000-4000-8000-000000000003", "short")]
            ),
        ])
        let snapshot = ZoneSnapshot(state: state, configuration: configuration, serial: 1)
        #expect(snapshot.skippedAgents == 1)
        #expect(Z.addresses(snapshot, "\(agent).ws.me") == ["fd60:627a:a42b:4000:8000:0:0:1"])
        #expect(Z.forward(snapshot, "\(agent).wsx.me") == .absent)
        #expect(Z.addresses(snapshot, "short.wsx.me") == ["fd60:627a:a42b:4000:8000:0:0:3"])
        #expect(configuration.reasonUnserved(agentName: agent, workspaceName: "wsx")?.hasSuffix("is longer than 255 bytes") == true)
        #expect(configuration.reasonUnserved(agentName: agent, workspaceName: "ws") == nil)
        // The same state with the usual configuration serves every name.
        #expect(ZoneSnapshot(state: state, configuration: Self.configuration, serial: 1).skippedAgents == 0)
    }

    @Test func aOneLetterOwnerCountsTheLongerMeForm() throws {
        // <agent>.<ws>.me.<suffix> is a byte longer than <agent>.<ws>.o.<suffix>: both or neither.
        let suffix = String(repeating: "b", count: 60) + "." + String(repeating: "c", count: 62)
        let configuration = try ZoneConfiguration(suffix: suffix, owner: "o")
        let agent = String(repeating: "a", count: 63)
        let workspace = String(repeating: "w", count: 62)
        // 3 + 63 + 62 + 2 + 125 = 255: fits; one more workspace byte does not.
        #expect(configuration.reasonUnserved(agentName: agent, workspaceName: workspace) == nil)
        #expect(configuration.reasonUnserved(agentName: agent, workspaceName: workspace + "w") != nil)
    }

    /// Two agents of one workspace with one name (a leftover agent of an older build):
    /// `<agent>.<ws>` answers both addresses in address order, `<ws>` is not served (two
    /// agents), and each address's PTR names its own agent. Input order changes nothing.
    @Test func twoAgentsOfOneNameAnswerBothAddressesWhateverTheOrder() throws {
        let agents = [
            ("10000000-0000-4000-8000-0000000000b2", "Main"), ("10000000-0000-4000-8000-0000000000a1", "main"),
            ("10000000-0000-4000-8000-0000000000c3", "gpu"),
        ]
        var answers: [[String]] = []
        for order in [[0, 1, 2], [1, 0, 2], [2, 1, 0], [1, 2, 0]] {
            let state = Z.state([("00000000-0000-4000-8000-000000000001", "ws", order.map { agents[$0] })])
            let snapshot = ZoneSnapshot(state: state, configuration: Self.configuration, serial: 1)
            answers.append(Z.addresses(snapshot, "main.ws.me"))
            #expect(Z.forward(snapshot, "ws") == .absent)
            #expect(Z.addresses(snapshot, "gpu.ws.alice") == ["fd60:627a:a42b:4000:8000:0:0:c3"])
            for (suffix, name) in [("a1", "main.ws.alice.coder."), ("b2", "main.ws.alice.coder."), ("c3", "gpu.ws.alice.coder.")] {
                let address = ServiceAddress.agent(Identifier(string: "10000000-0000-4000-8000-0000000000" + suffix)!)
                let nibbles = address.nibbles[12...].reversed().map { String($0, radix: 16) }.joined(separator: ".")
                guard case .pointer(let target) = Z.reverse(snapshot, nibbles) else {
                    Issue.record("no PTR for \(suffix)")
                    continue
                }
                #expect(snapshot.name(of: target) == (try DomainName(name)).wire)
            }
        }
        #expect(answers[0] == ["fd60:627a:a42b:4000:8000:0:0:a1", "fd60:627a:a42b:4000:8000:0:0:b2"])
        #expect(answers.allSatisfy { $0 == answers[0] })
    }
}
