import ControlPlane
import DNSWire
import RecordStore
import Testing

/// Names from the update stream and the cache: labels Coder accepts are served, the others
/// are kept and reported, and no name rejects a message.
@Suite("Names from the stream and the cache")
struct UpdateNameTests {
    typealias S = Support

    static let names = ["dev_box", "main_agent-1", "9lives", "UPPER"]

    /// One workspace per name in `names`, each with one agent of that name, plus the odd ones:
    /// a 64-byte agent name and a dotted one in workspace `odd`, which has a good agent too.
    static func update() -> WorkspaceUpdate {
        var update = WorkspaceUpdate()
        for (index, name) in names.enumerated() {
            let ws = Identifier(high: 0x1000 + UInt64(index), low: 1)
            update.upsertedWorkspaces.append(WorkspaceUpdate.Workspace(id: IdentifierField(ws), name: name, status: .running))
            update.upsertedAgents.append(
                WorkspaceUpdate.Agent(
                    id: IdentifierField(Identifier(high: 0x2000 + UInt64(index), low: 2)), name: name, workspaceID: IdentifierField(ws)))
        }
        let odd = Identifier(high: 0x3000, low: 1)
        update.upsertedWorkspaces.append(WorkspaceUpdate.Workspace(id: IdentifierField(odd), name: "odd", status: .running))
        for (index, name) in ["good", String(repeating: "x", count: 64), "dev.box"].enumerated() {
            update.upsertedAgents.append(
                WorkspaceUpdate.Agent(
                    id: IdentifierField(Identifier(high: 0x4000, low: UInt64(index))), name: name, workspaceID: IdentifierField(odd)))
        }
        return update
    }

    static func addresses(_ snapshot: ZoneSnapshot, _ name: String) -> Int {
        snapshot.withAnswerRecords(of: ZoneSnapshotKey.lookup(snapshot, name)) { $1 } ?? 0
    }

    static func expectServed(_ state: WorkspaceState, sourceLocation: SourceLocation = #_sourceLocation) {
        let snapshot = ZoneSnapshot(state: state, configuration: S.configuration, serial: 1)
        for name in names {
            let lower = name.lowercased()
            for form in ["\(lower).\(lower).me", "\(name).\(name).alice", name] {
                #expect(addresses(snapshot, form) == 1, "\(form)", sourceLocation: sourceLocation)
            }
        }
        #expect(addresses(snapshot, "good.odd.me") == 1, sourceLocation: sourceLocation)
        #expect(snapshot.skippedAgents == 2, sourceLocation: sourceLocation)
    }

    @Test func labelsCoderAcceptsResolveFromAnUpdateAndTheOthersAreReported() {
        let (state, problems) = WorkspaceState().applying(Self.update())
        #expect(state.workspaces.count == 5 && state.agents.count == 7)
        #expect(state.workspaces.values.map(\.name).contains("upper"))
        #expect(
            problems == [
                .unservableName(field: "upserted_agents[5].name", name: String(repeating: "x", count: 64), reason: "is longer than 63 bytes"),
                .unservableName(field: "upserted_agents[6].name", name: "dev.box", reason: "has a '.' in it"),
            ])
        Self.expectServed(state)
    }

    @Test func labelsCoderAcceptsResolveFromTheCache() throws {
        let (state, _) = WorkspaceState().applying(Self.update())
        let cache = StateCache(directory: StateCacheTests.directory())
        try cache.save(state, now: 1)
        let loaded = cache.load(configuration: S.configuration)
        #expect(loaded.problems.isEmpty)
        #expect(loaded.state == state)
        Self.expectServed(try #require(loaded.state))
    }

    @Test func aNameOver255BytesIsCachedCutAndStaysUnservable() throws {
        let ws = Identifier(high: 1, low: 1)
        var state = WorkspaceState()
        state.workspaces[ws] = Workspace(id: ws, name: String(repeating: "w", count: 300), status: .running)
        state.agents[Identifier(high: 2, low: 2)] = Agent(id: Identifier(high: 2, low: 2), name: "main", workspaceID: ws)
        let cache = StateCache(directory: StateCacheTests.directory())
        try cache.save(state, now: 1)
        let loaded = try #require(cache.load(configuration: S.configuration).state)
        #expect(loaded.workspaces[ws]?.name == String(repeating: "w", count: 255))
        #expect(ZoneSnapshot(state: loaded, configuration: S.configuration, serial: 1).skippedAgents == 1)
    }

    @Test func aRenameMakesANameUnservableThenServableAgain() {
        var (state, _) = WorkspaceState().applying(Self.update())
        let ws = Identifier(high: 0x1000, low: 1)
        let agent = Identifier(high: 0x2000, low: 2)
        func rename(workspace: String? = nil, agent agentName: String? = nil) -> [UpdateProblem] {
            var diff = WorkspaceUpdate()
            if let workspace { diff.upsertedWorkspaces = [WorkspaceUpdate.Workspace(id: IdentifierField(ws), name: workspace, status: .running)] }
            if let agentName {
                diff.upsertedAgents = [WorkspaceUpdate.Agent(id: IdentifierField(agent), name: agentName, workspaceID: IdentifierField(ws))]
            }
            let result = state.applying(diff)
            state = result.state
            return result.problems
        }
        func served(_ name: String) -> Bool {
            Self.addresses(ZoneSnapshot(state: state, configuration: S.configuration, serial: 1), name) == 1
        }
        #expect(served("dev_box.dev_box.me"))
        #expect(rename(workspace: "dev box").count == 1)
        #expect(!served("dev_box.dev_box.me") && !served("dev_box"))
        #expect(state.workspaces[ws]?.name == "dev box")
        #expect(rename(workspace: "Dev_Box2").isEmpty)
        #expect(served("dev_box.dev_box2.me") && served("dev_box2"))
        #expect(rename(agent: "a.b").count == 1)
        #expect(!served("dev_box.dev_box2.me") && !served("dev_box2"))
        #expect(rename(agent: "ok").isEmpty)
        #expect(served("ok.dev_box2.alice") && served("dev_box2"))
    }

    /// Issue 13: a rename that makes one agent's name over 255 bytes is applied (the state
    /// keeps the name) and that agent alone is left out of the snapshot, counted, until a
    /// rename brings it back.
    @Test func aRenameThatMakesANameOver255BytesLeavesOutOnlyThatAgent() throws {
        let long = try ZoneConfiguration(
            suffix: String(repeating: "s", count: 63) + "." + String(repeating: "t", count: 60), owner: String(repeating: "o", count: 63))
        var (state, _) = WorkspaceState().applying(Self.update())
        let ws = Identifier(high: 0x1000, low: 1)
        #expect(ZoneSnapshot(state: state, configuration: long, serial: 1).skippedAgents == 2)
        var diff = WorkspaceUpdate()
        diff.upsertedWorkspaces = [WorkspaceUpdate.Workspace(id: IdentifierField(ws), name: String(repeating: "w", count: 63), status: .running)]
        let result = state.applying(diff)
        #expect(result.problems.isEmpty, "a 63-byte label is a good name: the length is the builder's check")
        state = result.state
        #expect(state.workspaces[ws]?.name == String(repeating: "w", count: 63))
        let snapshot = ZoneSnapshot(state: state, configuration: long, serial: 2)
        #expect(snapshot.skippedAgents == 3)
        // dev_box.<63 w>.<63 o>.<63 s>.<60 t>: 262 bytes. The other agents are served.
        #expect(Self.addresses(snapshot, "main_agent-1.main_agent-1.me") == 1)
        // Under the usual owner and suffix the same state serves it.
        #expect(
            Self.addresses(ZoneSnapshot(state: state, configuration: S.configuration, serial: 3), "dev_box.\(String(repeating: "w", count: 63)).me")
                == 1)
    }

    @Test func anAgentOfAnUnknownWorkspaceIsSkippedAndTheRestApplies() {
        var update = Self.update()
        let stray = Identifier(high: 0x5000, low: 5)
        let nowhere = Identifier(high: 0x6000, low: 6)
        update.upsertedAgents.insert(
            WorkspaceUpdate.Agent(id: IdentifierField(stray), name: "stray", workspaceID: IdentifierField(nowhere)), at: 2)
        let (state, problems) = WorkspaceState().applying(update)
        #expect(problems.first == .unknownWorkspace(agent: stray, workspace: nowhere))
        #expect(problems.count == 3)
        #expect(state.agents[stray] == nil)
        Self.expectServed(state)
    }
}

/// Lookup keys from dotted text (lower-cased labels).
enum ZoneSnapshotKey {
    static func lookup(_ snapshot: ZoneSnapshot, _ name: String) -> ZoneSnapshot.ForwardResult {
        let key = name.split(separator: ".").flatMap { [UInt8($0.utf8.count)] + Array($0.lowercased().utf8) }
        return key.withUnsafeBytes { snapshot.lookupForward(relativeName: $0) }
    }
}
