/// The lifecycle states of a workspace, as the control plane names them
/// (`coder.tailnet.v2.Workspace.Status`).
public enum WorkspaceStatus: Int, Sendable, CaseIterable {
    case unknown = 0, pending, starting, running, stopping, stopped, failed, canceling, canceled,
        deleting, deleted

    /// The protobuf enum names: `RUNNING`, `STOPPED`, ...
    public var name: String {
        switch self {
        case .unknown: "UNKNOWN"
        case .pending: "PENDING"
        case .starting: "STARTING"
        case .running: "RUNNING"
        case .stopping: "STOPPING"
        case .stopped: "STOPPED"
        case .failed: "FAILED"
        case .canceling: "CANCELING"
        case .canceled: "CANCELED"
        case .deleting: "DELETING"
        case .deleted: "DELETED"
        }
    }

    public init?(name: String) {
        guard let status = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = status
    }
}

public struct Workspace: Equatable, IdentifiedValue {
    public var id: Identifier
    /// The name as Coder gave it, lower-cased. Kept even when it cannot be served
    /// (``DNSLabel``): the snapshot builder leaves such names out, and a later rename can
    /// make it servable again.
    public var name: String {
        didSet { nameHash = Self.hash(name) }
    }
    public var status: WorkspaceStatus
    /// ``hash(_:)`` of ``name``: a layer's build finds the workspaces of a few names among
    /// 100,000 by comparing these, not by hashing every name (``ZoneSnapshot/updating``).
    public private(set) var nameHash: UInt64

    public init(id: Identifier, name: String, status: WorkspaceStatus) {
        self.id = id
        self.name = name
        self.status = status
        self.nameHash = Self.hash(name)
    }

    /// ``NameTable``'s hash of the name's UTF-8 bytes (read contiguously: a small string's
    /// from the stack).
    public static func hash(_ name: String) -> UInt64 {
        var name = name
        return name.withUTF8 { NameTable.hash(UnsafeRawBufferPointer($0)) }
    }
}

public struct Agent: Equatable, IdentifiedValue {
    public var id: Identifier
    /// The name as Coder gave it, lower-cased. Kept even when it cannot be served
    /// (``DNSLabel``): the snapshot builder leaves such names out, and a later rename can
    /// make it servable again.
    public var name: String
    public var workspaceID: Identifier

    public init(id: Identifier, name: String, workspaceID: Identifier) {
        self.id = id
        self.name = name
        self.workspaceID = workspaceID
    }
}

/// Everything known about the local user's workspaces: the input the record snapshot is
/// computed from. Every agent's workspace is present (the sources check this). Names are
/// kept whatever they are; which of them can be served is the snapshot builder's call, since
/// it depends on the configuration (a name over 255 bytes).
///
/// Both maps are ``IdentifierMap``s: a 100,000-workspace snapshot is loaded, looked up and
/// copied several times faster than with `Dictionary`.
public struct WorkspaceState: Equatable, Sendable {
    public var workspaces: IdentifierMap<Workspace>
    public var agents: IdentifierMap<Agent>

    public init(workspaces: IdentifierMap<Workspace> = [:], agents: IdentifierMap<Agent> = [:]) {
        self.workspaces = workspaces
        self.agents = agents
    }
}
