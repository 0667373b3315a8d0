import RecordStore

/// Why an update was rejected. The whole message is refused: nothing of it is applied.
public enum UpdateError: Error, Equatable, CustomStringConvertible {
    case undecodable(String)
    case badIdentifier(field: String, length: Int)
    case badName(field: String, name: String, reason: String)
    case unknownWorkspace(agent: Identifier, workspace: Identifier)

    public var description: String {
        switch self {
        case .undecodable(let detail): "message does not decode as a WorkspaceUpdate: \(detail)"
        case .badIdentifier(let field, let length): "\(field) is \(length) bytes, not a 16-byte UUID"
        case .badName(let field, let name, let reason): "\(field) \"\(name)\" \(reason)"
        case .unknownWorkspace(let agent, let workspace): "agent \(agent) belongs to unknown workspace \(workspace)"
        }
    }
}

extension WorkspaceState {
    /// The state after `update`, in Coder's order: upsert workspaces, delete agents, delete
    /// workspaces (with any agents left in them), upsert agents. Because workspaces go first,
    /// an agent may be listed before its workspace in one message.
    ///
    /// Throws, leaving nothing applied, for a UUID that is not 16 bytes, a name that is not a
    /// DNS label (or would make a name over 255 bytes), or an agent of an unknown workspace.
    public func applying(_ update: WorkspaceUpdate, configuration: ZoneConfiguration) throws(UpdateError) -> WorkspaceState {
        if workspaces.isEmpty, agents.isEmpty, update.deletedAgents.isEmpty, update.deletedWorkspaces.isEmpty,
            let state = try Self.indexing(update, configuration: configuration)
        {
            return state
        }
        var state = self
        state.workspaces.reserveCapacity(state.workspaces.count + update.upsertedWorkspaces.count)
        state.agents.reserveCapacity(state.agents.count + update.upsertedAgents.count)
        // Field paths for error messages are only built when something is wrong.
        for (index, workspace) in update.upsertedWorkspaces.enumerated() {
            let id = try Self.identifier(workspace.id) { "upserted_workspaces[\(index)].id" }
            let name = try Self.label(workspace.name) { "upserted_workspaces[\(index)].name" }
            state.workspaces[id] = Workspace(id: id, name: name, status: workspace.status)
        }
        for (index, agent) in update.deletedAgents.enumerated() {
            _ = state.agents.removeValue(forKey: try Self.identifier(agent.id) { "deleted_agents[\(index)].id" })
        }
        if !update.deletedWorkspaces.isEmpty {
            var deleted = Set<Identifier>()
            for (index, workspace) in update.deletedWorkspaces.enumerated() {
                let id = try Self.identifier(workspace.id) { "deleted_workspaces[\(index)].id" }
                _ = state.workspaces.removeValue(forKey: id)
                deleted.insert(id)
            }
            var orphans: [Identifier] = []
            for agent in state.agents.values where deleted.contains(agent.workspaceID) { orphans.append(agent.id) }
            for id in orphans { _ = state.agents.removeValue(forKey: id) }
        }
        let fixedLength = 1 + configuration.owner.utf8.count + configuration.suffix.wire.count
        for (index, agent) in update.upsertedAgents.enumerated() {
            let id = try Self.identifier(agent.id) { "upserted_agents[\(index)].id" }
            let workspaceID = try Self.identifier(agent.workspaceID) { "upserted_agents[\(index)].workspace_id" }
            let name = try Self.label(agent.name) { "upserted_agents[\(index)].name" }
            guard let position = state.workspaces.position(ofKey: workspaceID) else {
                throw .unknownWorkspace(agent: id, workspace: workspaceID)
            }
            // The longest name made of it: agent.workspace.owner.suffix.
            if 1 + name.utf8.count + 1 + state.workspaces.values[position].name.utf8.count + fixedLength > 255 {
                throw .badName(field: "upserted_agents[\(index)].name", name: name, reason: "makes a name longer than 255 bytes")
            }
            state.agents[id] = Agent(id: id, name: name, workspaceID: workspaceID)
        }
        return state
    }

    /// A first snapshot, the usual case of a large message, applied to nothing: the records
    /// are checked into arrays and each map indexed in one pass. Nil when the message lists an
    /// identifier twice (allowed: the later upsert wins), which the general path handles.
    private static func indexing(_ update: WorkspaceUpdate, configuration: ZoneConfiguration) throws(UpdateError) -> WorkspaceState? {
        var workspaceList: [Workspace] = []
        workspaceList.reserveCapacity(update.upsertedWorkspaces.count)
        for (index, workspace) in update.upsertedWorkspaces.enumerated() {
            let id = try identifier(workspace.id) { "upserted_workspaces[\(index)].id" }
            let name = try label(workspace.name) { "upserted_workspaces[\(index)].name" }
            workspaceList.append(Workspace(id: id, name: name, status: workspace.status))
        }
        var duplicate: Identifier?
        guard let workspaces = IdentifierMap(distinct: workspaceList, duplicate: &duplicate) else { return nil }
        let fixedLength = 1 + configuration.owner.utf8.count + configuration.suffix.wire.count
        var agentList: [Agent] = []
        agentList.reserveCapacity(update.upsertedAgents.count)
        for (index, agent) in update.upsertedAgents.enumerated() {
            let id = try identifier(agent.id) { "upserted_agents[\(index)].id" }
            let workspaceID = try identifier(agent.workspaceID) { "upserted_agents[\(index)].workspace_id" }
            let name = try label(agent.name) { "upserted_agents[\(index)].name" }
            guard let position = workspaces.position(ofKey: workspaceID) else {
                throw .unknownWorkspace(agent: id, workspace: workspaceID)
            }
            if 1 + name.utf8.count + 1 + workspaces.values[position].name.utf8.count + fixedLength > 255 {
                throw .badName(field: "upserted_agents[\(index)].name", name: name, reason: "makes a name longer than 255 bytes")
            }
            agentList.append(Agent(id: id, name: name, workspaceID: workspaceID))
        }
        guard let agents = IdentifierMap(distinct: agentList, duplicate: &duplicate) else { return nil }
        return WorkspaceState(workspaces: workspaces, agents: agents)
    }

    private static func identifier(_ field: IdentifierField, path: () -> String) throws(UpdateError) -> Identifier {
        guard let id = field.identifier else { throw .badIdentifier(field: path(), length: field.length) }
        return id
    }

    private static func label(_ text: String, path: () -> String) throws(UpdateError) -> String {
        if let reason = DNSLabel.problem(with: text) {
            throw .badName(field: path(), name: text, reason: "is not a valid DNS label: it \(reason)")
        }
        return DNSLabel.lowercased(text)
    }
}

extension WorkspaceUpdate {
    /// Decodes one message's bytes.
    public static func decode(_ bytes: [UInt8]) throws(UpdateError) -> WorkspaceUpdate {
        do throws(ProtobufError) {
            return try WorkspaceUpdate(serializedBytes: bytes)
        } catch {
            throw .undecodable(error.description)
        }
    }

    /// The whole of `state` as one message: what a control plane sends first.
    public init(snapshotOf state: WorkspaceState) {
        self.init()
        upsertedWorkspaces = state.workspaces.values.sorted { $0.id < $1.id }.map { workspace in
            Workspace(id: IdentifierField(workspace.id), name: workspace.name, status: workspace.status)
        }
        upsertedAgents = state.agents.values.sorted { $0.id < $1.id }.map { agent in
            Agent(id: IdentifierField(agent.id), name: agent.name, workspaceID: IdentifierField(agent.workspaceID))
        }
    }
}
