import Foundation
import RecordStore

public typealias WorkspaceUpdate = Coder_Tailnet_V2_WorkspaceUpdate
public typealias WorkspaceUpdatesRequest = Coder_Tailnet_V2_WorkspaceUpdatesRequest

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
        var state = self
        state.workspaces.reserveCapacity(state.workspaces.count + update.upsertedWorkspaces.count)
        state.agents.reserveCapacity(state.agents.count + update.upsertedAgents.count)
        for (index, workspace) in update.upsertedWorkspaces.enumerated() {
            let field = "upserted_workspaces[\(index)]"
            let id = try Self.identifier(workspace.id, field: field + ".id")
            let name = try Self.label(workspace.name, field: field + ".name")
            let status = WorkspaceStatus(rawValue: workspace.status.rawValue) ?? .unknown
            state.workspaces[id] = Workspace(id: id, name: name, status: status)
        }
        for (index, agent) in update.deletedAgents.enumerated() {
            state.agents[try Self.identifier(agent.id, field: "deleted_agents[\(index)].id")] = nil
        }
        if !update.deletedWorkspaces.isEmpty {
            var deleted = Set<Identifier>()
            for (index, workspace) in update.deletedWorkspaces.enumerated() {
                let id = try Self.identifier(workspace.id, field: "deleted_workspaces[\(index)].id")
                state.workspaces[id] = nil
                deleted.insert(id)
            }
            state.agents.removeAll { deleted.contains($0.workspaceID) }
        }
        for (index, agent) in update.upsertedAgents.enumerated() {
            let field = "upserted_agents[\(index)]"
            let id = try Self.identifier(agent.id, field: field + ".id")
            let workspaceID = try Self.identifier(agent.workspaceID, field: field + ".workspace_id")
            let name = try Self.label(agent.name, field: field + ".name")
            guard let workspace = state.workspaces[workspaceID] else {
                throw .unknownWorkspace(agent: id, workspace: workspaceID)
            }
            let longest = [name, workspace.name, configuration.owner].reduce(0) { $0 + 1 + $1.utf8.count }
            if longest + configuration.suffix.wire.count > 255 {
                throw .badName(field: field + ".name", name: name, reason: "makes a name longer than 255 bytes")
            }
            state.agents[id] = Agent(id: id, name: name, workspaceID: workspaceID)
        }
        return state
    }

    private static func identifier(_ bytes: Data, field: String) throws(UpdateError) -> Identifier {
        guard let id = bytes.withUnsafeBytes({ Identifier(raw: $0) }) else {
            throw .badIdentifier(field: field, length: bytes.count)
        }
        return id
    }

    private static func label(_ text: String, field: String) throws(UpdateError) -> String {
        if let reason = DNSLabel.problem(with: text) {
            throw .badName(field: field, name: text, reason: "is not a valid DNS label: it \(reason)")
        }
        return DNSLabel.lowercased(text)
    }
}

extension WorkspaceUpdate {
    /// Decodes one message's bytes.
    public static func decode(_ bytes: [UInt8]) throws(UpdateError) -> WorkspaceUpdate {
        do {
            return try WorkspaceUpdate(serializedBytes: bytes)
        } catch {
            throw .undecodable("\(error)")
        }
    }

    /// The whole of `state` as one message: what a control plane sends first.
    public init(snapshotOf state: WorkspaceState) {
        self.init()
        upsertedWorkspaces = state.workspaces.values.sorted { $0.id < $1.id }.map { workspace in
            var message = Coder_Tailnet_V2_Workspace()
            message.id = Data(workspace.id.bytes)
            message.name = workspace.name
            message.status = Coder_Tailnet_V2_Workspace.Status(rawValue: workspace.status.rawValue) ?? .unknown
            return message
        }
        upsertedAgents = state.agents.values.sorted { $0.id < $1.id }.map { agent in
            var message = Coder_Tailnet_V2_Agent()
            message.id = Data(agent.id.bytes)
            message.name = agent.name
            message.workspaceID = Data(agent.workspaceID.bytes)
            return message
        }
    }
}
