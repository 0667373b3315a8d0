import RecordStore

/// Why a message was rejected whole: only bytes that do not decode. Everything that decodes
/// is applied, record by record (``UpdateProblem`` lists what was skipped or is not served).
public enum UpdateError: Error, Equatable, CustomStringConvertible {
    case undecodable(String)

    public var description: String {
        switch self {
        case .undecodable(let detail): "message does not decode as a WorkspaceUpdate: \(detail)"
        }
    }
}

/// Something odd in a message that decoded: the rest of the message is applied. One odd
/// agent must not take every other name down.
public enum UpdateProblem: Equatable, Sendable, CustomStringConvertible {
    /// An identifier that is not 16 bytes: that one record (an upsert or a deletion) is
    /// skipped.
    case badIdentifier(field: String, length: Int)
    /// An agent whose workspace is neither known nor upserted in the message: the agent is
    /// skipped (Coder's own client drops the stream instead; one bad agent should not stop
    /// every other update).
    case unknownWorkspace(agent: Identifier, workspace: Identifier)
    /// A name that cannot be a DNS label (``DNSLabel``): kept in the state, so that a later
    /// rename or deletion applies, but its names are not served.
    case unservableName(field: String, name: String, reason: String)

    public var description: String {
        switch self {
        case .badIdentifier(let field, let length): "\(field) is \(length) bytes, not a 16-byte UUID: that record is skipped"
        case .unknownWorkspace(let agent, let workspace): "agent \(agent) belongs to unknown workspace \(workspace): the agent is skipped"
        case .unservableName(let field, let name, let reason): "\(field) \"\(name)\" \(reason): its names are not served"
        }
    }
}

extension WorkspaceState {
    /// The state after `update`, in Coder's order: upsert workspaces, delete agents, delete
    /// workspaces (with any agents left in them), upsert agents. Because workspaces go first,
    /// an agent may be listed before its workspace in one message.
    ///
    /// Never fails: a record with an identifier that is not 16 bytes, and an agent of an
    /// unknown workspace, are skipped; a name that cannot be a DNS label is kept (lower-cased)
    /// and reported. Whether a name fits in 255 bytes depends on the configuration, so the
    /// snapshot builder checks that. Each oddity is in `problems`, in message order.
    public func applying(_ update: WorkspaceUpdate) -> (state: WorkspaceState, problems: [UpdateProblem]) {
        var state = self
        var changed: Set<String>? = []
        let problems = state.apply(update, changedNames: &changed)
        return (state, problems)
    }

    /// Applies `update` in place (``applying(_:)``), adding to `changedNames` the name of
    /// every workspace whose records it may change, under its old name and its new one:
    /// what a snapshot built as a layer (``ZoneSnapshot/updating(_:state:changedNames:serial:)``)
    /// must cover. `changedNames` becomes nil when everything changed (a first snapshot into
    /// an empty state: no set of its names is made). In place, so that a diff on a large
    /// state copies nothing.
    public mutating func apply(_ update: WorkspaceUpdate, changedNames: inout Set<String>?) -> [UpdateProblem] {
        var problems: [UpdateProblem] = []
        if workspaces.isEmpty, agents.isEmpty, update.deletedAgents.isEmpty, update.deletedWorkspaces.isEmpty,
            let state = Self.indexing(update, problems: &problems)
        {
            self = state
            changedNames = nil
            return problems
        }
        problems.removeAll()
        // Room for a large message at once; a small diff lets the maps grow as they do (an
        // exact reservation per diff would copy a 100,000-entry map every time).
        if update.upsertedWorkspaces.count > workspaces.count / 4 {
            workspaces.reserveCapacity(IdentifierMap<Workspace>.capacityWithRoom(for: workspaces.count + update.upsertedWorkspaces.count))
        }
        if update.upsertedAgents.count > agents.count / 4 {
            agents.reserveCapacity(IdentifierMap<Agent>.capacityWithRoom(for: agents.count + update.upsertedAgents.count))
        }
        /// The name of the workspace `id` now, if any.
        func touch(workspace id: Identifier) {
            if let position = workspaces.position(ofKey: id) { changedNames?.insert(workspaces.values[position].name) }
        }
        // Field paths for problems are only built when something is wrong.
        for (index, workspace) in update.upsertedWorkspaces.enumerated() {
            guard let id = Self.identifier(workspace.id, &problems, { "upserted_workspaces[\(index)].id" }) else { continue }
            let name = Self.label(workspace.name, &problems) { "upserted_workspaces[\(index)].name" }
            touch(workspace: id)
            changedNames?.insert(name)
            workspaces[id] = Workspace(id: id, name: name, status: workspace.status)
        }
        for (index, agent) in update.deletedAgents.enumerated() {
            guard let id = Self.identifier(agent.id, &problems, { "deleted_agents[\(index)].id" }) else { continue }
            if let removed = agents.removeValue(forKey: id) { touch(workspace: removed.workspaceID) }
        }
        if !update.deletedWorkspaces.isEmpty {
            var deleted = Set<Identifier>()
            for (index, workspace) in update.deletedWorkspaces.enumerated() {
                guard let id = Self.identifier(workspace.id, &problems, { "deleted_workspaces[\(index)].id" }) else { continue }
                if let removed = workspaces.removeValue(forKey: id) { changedNames?.insert(removed.name) }
                deleted.insert(id)
            }
            var orphans: [Identifier] = []
            for agent in agents.values where deleted.contains(agent.workspaceID) { orphans.append(agent.id) }
            for id in orphans { _ = agents.removeValue(forKey: id) }
        }
        for (index, agent) in update.upsertedAgents.enumerated() {
            guard let id = Self.identifier(agent.id, &problems, { "upserted_agents[\(index)].id" }),
                let workspaceID = Self.identifier(agent.workspaceID, &problems, { "upserted_agents[\(index)].workspace_id" })
            else { continue }
            guard workspaces.contains(workspaceID) else {
                problems.append(.unknownWorkspace(agent: id, workspace: workspaceID))
                continue
            }
            let name = Self.label(agent.name, &problems) { "upserted_agents[\(index)].name" }
            if let position = agents.position(ofKey: id) { touch(workspace: agents.values[position].workspaceID) }
            touch(workspace: workspaceID)
            agents[id] = Agent(id: id, name: name, workspaceID: workspaceID)
        }
        return problems
    }

    /// A first snapshot, the usual case of a large message, applied to nothing: the records
    /// are checked into arrays and each map indexed in one pass. Nil when the message lists an
    /// identifier twice (allowed: the later upsert wins), which the general path handles.
    private static func indexing(_ update: WorkspaceUpdate, problems: inout [UpdateProblem]) -> WorkspaceState? {
        var workspaceList: [Workspace] = []
        workspaceList.reserveCapacity(IdentifierMap<Workspace>.capacityWithRoom(for: update.upsertedWorkspaces.count))
        for (index, workspace) in update.upsertedWorkspaces.enumerated() {
            guard let id = identifier(workspace.id, &problems, { "upserted_workspaces[\(index)].id" }) else { continue }
            let name = label(workspace.name, &problems) { "upserted_workspaces[\(index)].name" }
            workspaceList.append(Workspace(id: id, name: name, status: workspace.status))
        }
        var duplicate: Identifier?
        guard let workspaces = IdentifierMap(distinct: workspaceList, duplicate: &duplicate) else { return nil }
        var agentList: [Agent] = []
        agentList.reserveCapacity(IdentifierMap<Agent>.capacityWithRoom(for: update.upsertedAgents.count))
        for (index, agent) in update.upsertedAgents.enumerated() {
            guard let id = identifier(agent.id, &problems, { "upserted_agents[\(index)].id" }),
                let workspaceID = identifier(agent.workspaceID, &problems, { "upserted_agents[\(index)].workspace_id" })
            else { continue }
            guard workspaces.contains(workspaceID) else {
                problems.append(.unknownWorkspace(agent: id, workspace: workspaceID))
                continue
            }
            let name = label(agent.name, &problems) { "upserted_agents[\(index)].name" }
            agentList.append(Agent(id: id, name: name, workspaceID: workspaceID))
        }
        guard let agents = IdentifierMap(distinct: agentList, duplicate: &duplicate) else { return nil }
        return WorkspaceState(workspaces: workspaces, agents: agents)
    }

    /// The identifier, or nil with the problem noted.
    private static func identifier(_ field: IdentifierField, _ problems: inout [UpdateProblem], _ path: () -> String) -> Identifier? {
        guard let id = field.identifier else {
            problems.append(.badIdentifier(field: path(), length: field.length))
            return nil
        }
        return id
    }

    /// The name lower-cased, with a problem noted when it cannot be served.
    private static func label(_ text: String, _ problems: inout [UpdateProblem], path: () -> String) -> String {
        let name = DNSLabel.lowercased(text)
        if let reason = DNSLabel.problem(with: name) { problems.append(.unservableName(field: path(), name: name, reason: reason)) }
        return name
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
