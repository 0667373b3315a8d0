import ControlPlane
import RecordStore
import Testing

@Suite("Applying workspace updates")
struct UpdateApplyingTests {
    typealias S = Support

    static func snapshot() -> WorkspaceUpdate {
        var update = WorkspaceUpdate()
        // The agent is listed before its workspace's upsert is processed: allowed.
        update.upsertedAgents = [S.agent(S.agent1, "main", workspace: S.ws1), S.agent(S.agent2, "Main", workspace: S.ws2)]
        update.upsertedWorkspaces = [S.workspace(S.ws1, "myws"), S.workspace(S.ws2, "Dev", .starting)]
        return update
    }

    @Test func aSnapshotBuildsTheWholeState() throws {
        let state = WorkspaceState().applying(Self.snapshot()).state
        #expect(state.workspaces.count == 2)
        #expect(state.agents.count == 2)
        #expect(state.workspaces[Identifier(string: S.ws2)!]?.name == "dev")
        #expect(state.workspaces[Identifier(string: S.ws2)!]?.status == .starting)
        #expect(state.agents[Identifier(string: S.agent2)!]?.name == "main")
    }

    @Test func diffsUpsertAndDelete() throws {
        var state = WorkspaceState().applying(Self.snapshot()).state
        var diff = WorkspaceUpdate()
        diff.upsertedAgents = [S.agent(S.agent3, "gpu", workspace: S.ws2)]
        diff.deletedAgents = [S.agent(S.agent1, "main", workspace: S.ws1)]
        diff.upsertedWorkspaces = [S.workspace(S.ws1, "renamed")]
        state = state.applying(diff).state
        #expect(state.agents.count == 2)
        #expect(state.agents[Identifier(string: S.agent1)!] == nil)
        #expect(state.workspaces[Identifier(string: S.ws1)!]?.name == "renamed")
    }

    @Test func deletingAWorkspaceTakesItsAgentsWithIt() throws {
        var state = WorkspaceState().applying(Self.snapshot()).state
        var diff = WorkspaceUpdate()
        diff.deletedWorkspaces = [S.workspace(S.ws2, "dev")]
        state = state.applying(diff).state
        #expect(state.workspaces.count == 1)
        #expect(state.agents.values.map(\.id.description) == [S.agent1])
    }

    @Test func workspaceDeletesComeAfterWorkspaceUpsertsAsInCoder() throws {
        // Upsert and delete the same workspace in one message, with an agent for it: the
        // upsert goes first, the delete second, so the agent's workspace is unknown by the
        // time agents are upserted: that agent is skipped, the rest of the message applies.
        let state = WorkspaceState().applying(Self.snapshot()).state
        var diff = WorkspaceUpdate()
        diff.deletedWorkspaces = [S.workspace(S.ws1, "myws")]
        diff.upsertedWorkspaces = [S.workspace(S.ws1, "myws")]
        diff.upsertedAgents = [S.agent(S.agent1, "main", workspace: S.ws1)]
        let result = state.applying(diff)
        #expect(result.problems == [.unknownWorkspace(agent: Identifier(string: S.agent1)!, workspace: Identifier(string: S.ws1)!)])
        #expect(result.state.workspaces[Identifier(string: S.ws1)!] == nil)
        #expect(result.state.agents[Identifier(string: S.agent1)!] == nil)
        #expect(result.state.agents[Identifier(string: S.agent2)!] != nil)
        // Without the agent, the workspace ends deleted, and nothing is odd.
        diff.upsertedAgents = []
        let after = state.applying(diff)
        #expect(after.state.workspaces[Identifier(string: S.ws1)!] == nil)
        #expect(after.problems.isEmpty)
    }

    /// Records that cannot be applied, the problem each gives, and what the state holds
    /// after the message besides the good upsert that comes with it.
    static let skipped: [(String, WorkspaceUpdate, UpdateProblem)] = {
        var cases: [(String, WorkspaceUpdate, UpdateProblem)] = []
        var shortID = WorkspaceUpdate()
        var workspace = S.workspace(S.ws1, "myws")
        workspace.id = IdentifierField(bytes: [1, 2, 3])
        shortID.upsertedWorkspaces = [workspace]
        cases.append(("a 3-byte workspace id", shortID, .badIdentifier(field: "upserted_workspaces[1].id", length: 3)))
        var shortAgentWorkspace = WorkspaceUpdate()
        var agent = S.agent(S.agent3, "main", workspace: S.ws1)
        agent.workspaceID = IdentifierField(bytes: repeatElement(1, count: 17))
        shortAgentWorkspace.upsertedWorkspaces = [S.workspace(S.ws1, "myws")]
        shortAgentWorkspace.upsertedAgents = [agent]
        cases.append(("a 17-byte agent workspace id", shortAgentWorkspace, .badIdentifier(field: "upserted_agents[0].workspace_id", length: 17)))
        var orphan = WorkspaceUpdate()
        orphan.upsertedAgents = [S.agent(S.agent3, "main", workspace: "99999999-9999-4999-8999-999999999999")]
        cases.append(
            (
                "an agent of an unknown workspace", orphan,
                .unknownWorkspace(agent: Identifier(string: S.agent3)!, workspace: Identifier(string: "99999999-9999-4999-8999-999999999999")!)
            ))
        var emptyDeleteID = WorkspaceUpdate()
        var deleted = S.agent(S.agent1, "main", workspace: S.ws1)
        deleted.id = .empty
        emptyDeleteID.deletedAgents = [deleted]
        cases.append(("an empty deleted agent id", emptyDeleteID, .badIdentifier(field: "deleted_agents[0].id", length: 0)))
        return cases
    }()

    @Test("a bad record is skipped and the rest of its message applies", arguments: skipped)
    func badRecordsAreSkipped(label: String, update: WorkspaceUpdate, problem: UpdateProblem) throws {
        let before = WorkspaceState().applying(Self.snapshot()).state
        var mixed = update
        // Put a good change in the same message: it is applied.
        let extra = Identifier(string: "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d")!
        mixed.upsertedWorkspaces.insert(S.workspace(extra.description, "extra"), at: 0)
        let result = before.applying(mixed)
        #expect(result.problems == [problem], "\(label)")
        #expect(result.state.workspaces[extra]?.name == "extra", "\(label)")
        #expect(result.state.agents.count == before.agents.count, "\(label)")
        #expect(result.state.agents[Identifier(string: S.agent3)!] == nil, "\(label)")
        // As a first snapshot too (applied to nothing, which indexes in one pass): the same
        // state and problems as the general path gives (forced here by a deletion).
        guard update.deletedAgents.isEmpty else { return }
        let onePass = WorkspaceState().applying(mixed)
        var withDeletion = mixed
        withDeletion.deletedWorkspaces = [S.workspace("00000000-0000-4000-8000-00000000dead", "gone")]
        let general = WorkspaceState().applying(withDeletion)
        #expect(onePass.state == general.state, "\(label)")
        #expect(onePass.problems == general.problems, "\(label)")
        #expect(onePass.problems == [problem], "\(label)")
    }

    @Test func aFirstSnapshotThatListsAnIDTwiceKeepsTheLaterUpsert() throws {
        var update = Self.snapshot()
        update.upsertedWorkspaces.append(S.workspace(S.ws1, "renamed"))
        update.upsertedAgents.append(S.agent(S.agent2, "second", workspace: S.ws1))
        let state = WorkspaceState().applying(update).state
        #expect(state.workspaces.count == 2 && state.agents.count == 2)
        #expect(state.workspaces[Identifier(string: S.ws1)!]?.name == "renamed")
        #expect(state.agents[Identifier(string: S.agent2)!]?.name == "second")
        #expect(state.agents[Identifier(string: S.agent2)!]?.workspaceID == Identifier(string: S.ws1)!)
    }

    @Test func aFirstSnapshotIndexedInOnePassEqualsTheSameChangesAppliedOneByOne() throws {
        // 2,000 workspaces with an agent each: the one-pass path (applied to nothing) and the
        // general path (the same upserts on top of a state that has one unrelated workspace,
        // which is then deleted) must give the same state.
        var update = WorkspaceUpdate()
        for index in 0..<2000 {
            let ws = Identifier(high: UInt64(index) &* 0x9E37_79B9, low: UInt64(index))
            let agent = Identifier(high: UInt64(index) &* 0x85EB_CA6B, low: ~UInt64(index))
            update.upsertedWorkspaces.append(WorkspaceUpdate.Workspace(id: IdentifierField(ws), name: "Ws\(index)", status: .running))
            update.upsertedAgents.append(WorkspaceUpdate.Agent(id: IdentifierField(agent), name: "main", workspaceID: IdentifierField(ws)))
        }
        let fast = WorkspaceState().applying(update).state
        var other = WorkspaceUpdate()
        other.upsertedWorkspaces = [S.workspace("00000000-0000-4000-8000-00000000beef", "other")]
        var slow = WorkspaceState().applying(other).state
        slow = slow.applying(update).state
        var removal = WorkspaceUpdate()
        removal.deletedWorkspaces = other.upsertedWorkspaces
        slow = slow.applying(removal).state
        #expect(fast.workspaces.count == 2000 && fast.agents.count == 2000)
        #expect(fast == slow)
        #expect(fast.workspaces.values.first?.name == "ws0")
    }

    @Test func onlyBytesThatDoNotDecodeAreRejected() {
        #expect(throws: UpdateError.self) { try WorkspaceUpdate.decode([0x0A, 0x05, 0x01]) }
        #expect(throws: UpdateError.self) { try WorkspaceUpdate.decode([0xFF, 0xFF, 0xFF]) }
    }
}

@Suite("The protocol bytes")
struct ProtocolBytesTests {
    @Test func aDelimitedSnapshotIsByteForByteTheFixture() throws {
        let fixture = try Support.hex("controlplane/workspace-update-snapshot.hex")
        var state = WorkspaceState()
        let ws = Identifier(string: Support.ws1)!
        let agent = Identifier(string: Support.agent1)!
        state.workspaces[ws] = Workspace(id: ws, name: "myws", status: .running)
        state.agents[agent] = Agent(id: agent, name: "main", workspaceID: ws)
        let bytes = WorkspaceUpdate(snapshotOf: state).serializedBytes()
        #expect(DelimitedFramer.frame(bytes) == fixture)

        var framer = DelimitedFramer()
        framer.append(fixture)
        let message = try #require(try framer.nextMessage())
        let decoded = try WorkspaceState().applying(WorkspaceUpdate.decode(message)).state
        #expect(decoded == state)
    }

    @Test func theRequestIsByteForByteTheFixture() throws {
        let request = WorkspaceUpdatesRequest(workspaceOwnerID: IdentifierField(Identifier(string: "0f0e0d0c-0b0a-4908-8706-050403020100")!))
        let bytes = request.serializedBytes()
        #expect(DelimitedFramer.frame(bytes) == (try Support.hex("controlplane/workspace-updates-request.hex")))
    }
}
