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
        let state = try WorkspaceState().applying(Self.snapshot(), configuration: S.configuration)
        #expect(state.workspaces.count == 2)
        #expect(state.agents.count == 2)
        #expect(state.workspaces[Identifier(string: S.ws2)!]?.name == "dev")
        #expect(state.workspaces[Identifier(string: S.ws2)!]?.status == .starting)
        #expect(state.agents[Identifier(string: S.agent2)!]?.name == "main")
    }

    @Test func diffsUpsertAndDelete() throws {
        var state = try WorkspaceState().applying(Self.snapshot(), configuration: S.configuration)
        var diff = WorkspaceUpdate()
        diff.upsertedAgents = [S.agent(S.agent3, "gpu", workspace: S.ws2)]
        diff.deletedAgents = [S.agent(S.agent1, "main", workspace: S.ws1)]
        diff.upsertedWorkspaces = [S.workspace(S.ws1, "renamed")]
        state = try state.applying(diff, configuration: S.configuration)
        #expect(state.agents.count == 2)
        #expect(state.agents[Identifier(string: S.agent1)!] == nil)
        #expect(state.workspaces[Identifier(string: S.ws1)!]?.name == "renamed")
    }

    @Test func deletingAWorkspaceTakesItsAgentsWithIt() throws {
        var state = try WorkspaceState().applying(Self.snapshot(), configuration: S.configuration)
        var diff = WorkspaceUpdate()
        diff.deletedWorkspaces = [S.workspace(S.ws2, "dev")]
        state = try state.applying(diff, configuration: S.configuration)
        #expect(state.workspaces.count == 1)
        #expect(state.agents.values.map(\.id.description) == [S.agent1])
    }

    @Test func workspaceDeletesComeAfterWorkspaceUpsertsAsInCoder() throws {
        // Upsert and delete the same workspace in one message, with an agent for it: the
        // upsert goes first, the delete second, so the agent's workspace is unknown by the
        // time agents are upserted, and the message is rejected (as Coder's client does).
        let state = try WorkspaceState().applying(Self.snapshot(), configuration: S.configuration)
        var diff = WorkspaceUpdate()
        diff.deletedWorkspaces = [S.workspace(S.ws1, "myws")]
        diff.upsertedWorkspaces = [S.workspace(S.ws1, "myws")]
        diff.upsertedAgents = [S.agent(S.agent1, "main", workspace: S.ws1)]
        #expect(throws: UpdateError.unknownWorkspace(agent: Identifier(string: S.agent1)!, workspace: Identifier(string: S.ws1)!)) {
            try state.applying(diff, configuration: S.configuration)
        }
        // Without the agent, the workspace ends deleted.
        diff.upsertedAgents = []
        let after = try state.applying(diff, configuration: S.configuration)
        #expect(after.workspaces[Identifier(string: S.ws1)!] == nil)
    }

    static let rejected: [(String, WorkspaceUpdate)] = {
        var cases: [(String, WorkspaceUpdate)] = []
        var shortID = WorkspaceUpdate()
        var workspace = S.workspace(S.ws1, "myws")
        workspace.id = IdentifierField(bytes: [1, 2, 3])
        shortID.upsertedWorkspaces = [workspace]
        cases.append(("a 3-byte workspace id", shortID))
        var shortAgentWorkspace = WorkspaceUpdate()
        var agent = S.agent(S.agent1, "main", workspace: S.ws1)
        agent.workspaceID = IdentifierField(bytes: repeatElement(1, count: 17))
        shortAgentWorkspace.upsertedWorkspaces = [S.workspace(S.ws1, "myws")]
        shortAgentWorkspace.upsertedAgents = [agent]
        cases.append(("a 17-byte agent workspace id", shortAgentWorkspace))
        var orphan = WorkspaceUpdate()
        orphan.upsertedAgents = [S.agent(S.agent1, "main", workspace: "99999999-9999-4999-8999-999999999999")]
        cases.append(("an agent of an unknown workspace", orphan))
        var badName = WorkspaceUpdate()
        badName.upsertedWorkspaces = [S.workspace(S.ws1, "my_ws")]
        cases.append(("a workspace name that is not a label", badName))
        var emptyDeleteID = WorkspaceUpdate()
        var deleted = S.agent(S.agent1, "main", workspace: S.ws1)
        deleted.id = .empty
        emptyDeleteID.deletedAgents = [deleted]
        cases.append(("an empty deleted agent id", emptyDeleteID))
        return cases
    }()

    @Test("a bad message is rejected whole", arguments: rejected)
    func rejectedWhole(label: String, update: WorkspaceUpdate) throws {
        let before = try WorkspaceState().applying(Self.snapshot(), configuration: S.configuration)
        var mixed = update
        // Put a good change in the same message: it must not be applied either.
        mixed.upsertedWorkspaces.insert(S.workspace("7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d", "extra"), at: 0)
        #expect(throws: UpdateError.self, "\(label)") { try before.applying(mixed, configuration: S.configuration) }
        // As a first snapshot too (applied to nothing, which indexes in one pass): the same
        // error as the general path gives (forced here by a deletion in the message).
        guard update.deletedAgents.isEmpty else { return }
        let onePass = #expect(throws: UpdateError.self) { try WorkspaceState().applying(mixed, configuration: S.configuration) }
        var withDeletion = mixed
        withDeletion.deletedWorkspaces = [S.workspace("00000000-0000-4000-8000-00000000dead", "gone")]
        let general = #expect(throws: UpdateError.self) { try WorkspaceState().applying(withDeletion, configuration: S.configuration) }
        #expect(onePass == general, "\(label)")
    }

    @Test func aFirstSnapshotThatListsAnIDTwiceKeepsTheLaterUpsert() throws {
        var update = Self.snapshot()
        update.upsertedWorkspaces.append(S.workspace(S.ws1, "renamed"))
        update.upsertedAgents.append(S.agent(S.agent2, "second", workspace: S.ws1))
        let state = try WorkspaceState().applying(update, configuration: S.configuration)
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
        let fast = try WorkspaceState().applying(update, configuration: S.configuration)
        var other = WorkspaceUpdate()
        other.upsertedWorkspaces = [S.workspace("00000000-0000-4000-8000-00000000beef", "other")]
        var slow = try WorkspaceState().applying(other, configuration: S.configuration)
        slow = try slow.applying(update, configuration: S.configuration)
        var removal = WorkspaceUpdate()
        removal.deletedWorkspaces = other.upsertedWorkspaces
        slow = try slow.applying(removal, configuration: S.configuration)
        #expect(fast.workspaces.count == 2000 && fast.agents.count == 2000)
        #expect(fast == slow)
        #expect(fast.workspaces.values.first?.name == "ws0")
    }

    @Test func bytesThatDoNotDecodeAreRejected() {
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
        let decoded = try WorkspaceState().applying(WorkspaceUpdate.decode(message), configuration: Support.configuration)
        #expect(decoded == state)
    }

    @Test func theRequestIsByteForByteTheFixture() throws {
        let request = WorkspaceUpdatesRequest(workspaceOwnerID: IdentifierField(Identifier(string: "0f0e0d0c-0b0a-4908-8706-050403020100")!))
        let bytes = request.serializedBytes()
        #expect(DelimitedFramer.frame(bytes) == (try Support.hex("controlplane/workspace-updates-request.hex")))
    }
}
