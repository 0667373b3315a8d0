import DNSWire

#if canImport(Glibc)
    import Glibc
#endif

/// Why a workspace-state file was rejected: always one line naming the file, where in it,
/// and what is wrong.
public struct StateFileError: Error, Equatable, CustomStringConvertible {
    public let source: String
    /// A JSON path such as `workspaces[2].agents[0].id`, or empty for the whole file.
    public let location: String
    public let problem: String

    public var description: String {
        location.isEmpty ? "\(source): \(problem)" : "\(source): \(location): \(problem)"
    }
}

/// Reads the workspace state from its JSON form:
///
/// ```json
/// {"workspaces": [
///   {"id": "3f1d9a2e-7b4c-4e8a-9f10-112233445566", "name": "myws", "status": "RUNNING",
///    "agents": [{"id": "a1b2c3d4-e5f6-4711-8899-aabbccddeeff", "name": "main"}]}
/// ]}
/// ```
/// The whole file is checked before anything is returned, so a bad file never yields part of
/// a state. Names are lower-cased; unknown keys are ignored. A name that cannot be served
/// (not a servable label, ``DNSLabel``, or making a name over 255 bytes) is no error: it is
/// kept in the state, its agents' names are left out of the snapshot, and each such agent is
/// returned in `skipped` for the caller to report.
public enum StateFile {
    public static func load(
        path: String, configuration: ZoneConfiguration
    ) throws(StateFileError) -> (state: WorkspaceState, skipped: [SkippedAgent]) {
        let file = try FileBuffer(path: path)
        var reader = StateReader()
        try parse(file, source: path, configuration: configuration, into: &reader)
        return (reader.state, reader.skipped)
    }

    /// Parses a whole document held in memory; `source` names it in errors.
    public static func parse(
        bytes: [UInt8], source: String, configuration: ZoneConfiguration
    ) throws(StateFileError) -> (state: WorkspaceState, skipped: [SkippedAgent]) {
        var reader = StateReader()
        // withUnsafeBytes rethrows untyped: carry the typed error out by hand.
        let failure: StateFileError? = bytes.withUnsafeBytes { buffer in
            do throws(StateFileError) {
                try parse(buffer, source: source, configuration: configuration, file: nil, into: &reader)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        return (reader.state, reader.skipped)
    }

    /// Reads a state file straight into a record snapshot, without building the
    /// ``WorkspaceState`` in between: what a server with no control plane needs. The file's
    /// pages are let go as they are read (``FileBuffer``), and only the identifiers are kept
    /// (to refuse repeats), so a 100,000-workspace file costs the snapshot and little more.
    /// A bad file gets the same one-line error as ``load(path:configuration:)``, and the same
    /// agents are skipped.
    public static func loadSnapshot(
        path: String, configuration: ZoneConfiguration, serial: UInt32
    ) throws(StateFileError) -> (snapshot: ZoneSnapshot, workspaces: Int, agents: Int, skipped: [SkippedAgent]) {
        var reader: SnapshotReader
        do {
            // Scoped: what is left of the file is unmapped before the index is finished.
            let file = try FileBuffer(path: path)
            // A workspace with its agent takes 160-odd bytes of JSON (two UUIDs, two names,
            // the keys): size the index for that many rather than grow it step by step.
            reader = SnapshotReader(configuration: configuration, expectedAgents: file.bytes.count / 160)
            try parse(file, source: path, configuration: configuration, into: &reader)
        } catch {
            // A repeated identifier: the state path knows where it was first seen.
            guard error.problem == SnapshotReader.repeated else { throw error }
            _ = try load(path: path, configuration: configuration)
            throw error
        }
        let counts = (reader.workspaceCount, reader.agentCount)
        let skipped = reader.skipped
        return (reader.finish(serial: serial), counts.0, counts.1, skipped)
    }

    private static func parse(
        _ file: FileBuffer, source: String, configuration: ZoneConfiguration, into visitor: inout some StateVisitor
    ) throws(StateFileError) {
        try parse(file.bytes, source: source, configuration: configuration, file: file, into: &visitor)
    }

    private static func parse(
        _ bytes: UnsafeRawBufferPointer, source: String, configuration: ZoneConfiguration, file: FileBuffer?,
        into visitor: inout some StateVisitor
    ) throws(StateFileError) {
        do {
            try parse(JSONCursor(bytes), source: source, configuration: configuration, file: file, into: &visitor)
        } catch let error as StateFileError {
            throw error
        } catch let error as JSONCursor.SyntaxError {
            throw StateFileError(source: source, location: "", problem: "not valid JSON: \(error.description)")
        } catch {
            throw StateFileError(source: source, location: "", problem: "\(error)")
        }
    }

    /// Reads the document with a pull cursor and hands each checked workspace and agent to
    /// `visitor`: nothing else is built. The pages of `file` behind the cursor are released
    /// as it goes.
    private static func parse(
        _ start: JSONCursor, source: String, configuration: ZoneConfiguration, file: FileBuffer?,
        into visitor: inout some StateVisitor
    ) throws {
        func fail(_ location: String, _ problem: String) -> StateFileError {
            StateFileError(source: source, location: location, problem: problem)
        }
        var cursor = start
        // Locations are spelled out only when something is wrong: a string per entry would
        // cost more than the entry.
        func workspacePath(_ index: Int) -> String { "workspaces[\(index)]" }
        func agentPath(_ workspace: Int, _ agent: Int) -> String { "workspaces[\(workspace)].agents[\(agent)]" }
        var sawWorkspaces = false
        guard try cursor.kind() == .object else {
            _ = try cursor.skipValue()
            try cursor.finish()
            throw fail("", "the top level is not a JSON object")
        }
        try cursor.readObject { key, cursor in
            guard key == "workspaces" else {
                try cursor.skipValue()
                return
            }
            sawWorkspaces = true
            guard try cursor.kind() == .array else {
                try cursor.skipValue()
                throw fail("workspaces", "not an array")
            }
            var agents: [(id: Field?, name: Field?)] = []
            try cursor.readArray { workspaceIndex, cursor in
                guard try cursor.kind() == .object else {
                    try cursor.skipValue()
                    throw fail(workspacePath(workspaceIndex), "not an object")
                }
                var idValue: Field?
                var nameValue: Field?
                var statusValue: Field?
                agents.removeAll(keepingCapacity: true)
                try cursor.readObject { key, cursor in
                    switch key {
                    case "id": idValue = try Field(&cursor)
                    case "name": nameValue = try Field(&cursor)
                    case "status": statusValue = try Field(&cursor)
                    case "agents":
                        guard try cursor.kind() == .array else {
                            try cursor.skipValue()
                            throw fail(workspacePath(workspaceIndex) + ".agents", "not an array")
                        }
                        agents.removeAll(keepingCapacity: true)
                        try cursor.readArray { agentIndex, cursor in
                            guard try cursor.kind() == .object else {
                                try cursor.skipValue()
                                throw fail(agentPath(workspaceIndex, agentIndex), "not an object")
                            }
                            var agentID: Field?
                            var agentName: Field?
                            try cursor.readObject { key, cursor in
                                switch key {
                                case "id": agentID = try Field(&cursor)
                                case "name": agentName = try Field(&cursor)
                                default: try cursor.skipValue()
                                }
                            }
                            agents.append((agentID, agentName))
                        }
                    default:
                        try cursor.skipValue()
                    }
                }
                let id = try identifier(idValue, at: workspacePath(workspaceIndex) + ".id", fail)
                if let problem = visitor.repeatedWorkspace(id) {
                    throw fail(workspacePath(workspaceIndex) + ".id", problem)
                }
                let name = try label(nameValue, at: workspacePath(workspaceIndex) + ".name", fail)
                var status = WorkspaceStatus.unknown
                if let statusValue {
                    guard let text = statusValue.string, let parsed = WorkspaceStatus(name: text) else {
                        throw fail(
                            workspacePath(workspaceIndex) + ".status", "\(statusValue.text) is not a workspace status (RUNNING, STOPPED, ...)")
                    }
                    status = parsed
                }
                visitor.add(Workspace(id: id, name: name, status: status))
                for (agentIndex, agent) in agents.enumerated() {
                    let agentID = try identifier(agent.id, at: agentPath(workspaceIndex, agentIndex) + ".id", fail)
                    if let problem = visitor.repeatedAgent(agentID) {
                        throw fail(agentPath(workspaceIndex, agentIndex) + ".id", problem)
                    }
                    let agentName = try label(agent.name, at: agentPath(workspaceIndex, agentIndex) + ".name", fail)
                    if let reason = configuration.reasonUnserved(agentName: agentName, workspaceName: name) {
                        visitor.skip(SkippedAgent(location: agentPath(workspaceIndex, agentIndex), reason: reason))
                    }
                    visitor.add(Agent(id: agentID, name: agentName, workspaceID: id))
                }
                if let file, let end = file.releasable(below: cursor.position) {
                    cursor.forget(upTo: end)
                    file.release(upTo: end)
                }
            }
        }
        try cursor.finish()
        guard sawWorkspaces else { throw fail("", "no \"workspaces\" key") }
    }

    /// A scalar value as read: its string if it is one, and its JSON text for messages.
    struct Field {
        let string: String?
        /// The JSON text of a value that is not a string.
        let other: String

        init(_ cursor: inout JSONCursor) throws {
            if try cursor.kind() == .string {
                string = try cursor.readString()
                other = ""
            } else {
                string = nil
                other = try cursor.skipValue()
            }
        }

        /// The value as it appeared, for messages.
        var text: String { string.map { "\"\($0)\"" } ?? other }
    }

    private static func identifier(
        _ value: Field?, at location: @autoclosure () -> String, _ fail: (String, String) -> StateFileError
    ) throws(StateFileError) -> Identifier {
        guard let value else { throw fail(location(), "missing") }
        guard let text = value.string, let id = Identifier(string: text) else {
            throw fail(location(), "\(value.text) is not a UUID")
        }
        return id
    }

    private static func label(
        _ value: Field?, at location: @autoclosure () -> String, _ fail: (String, String) -> StateFileError
    ) throws(StateFileError) -> String {
        guard let value else { throw fail(location(), "missing") }
        guard let text = value.string else { throw fail(location(), "\(value.text) is not a string") }
        return DNSLabel.lowercased(text)
    }
}

/// What the parser hands its checked entries to: the state, or a snapshot being built.
protocol StateVisitor {
    /// Why `id` cannot be another workspace's (it was seen before), or nil. Mutating only so
    /// that calls on an `inout` visitor do not copy it (and retain all it holds).
    mutating func repeatedWorkspace(_ id: Identifier) -> String?
    mutating func repeatedAgent(_ id: Identifier) -> String?
    /// A workspace, then its agents (whose workspace it is).
    mutating func add(_ workspace: Workspace)
    mutating func add(_ agent: Agent)
    /// An agent about to be added whose names will not be served, and why.
    mutating func skip(_ agent: SkippedAgent)
}

/// Builds the ``WorkspaceState``.
struct StateReader: StateVisitor {
    var state = WorkspaceState()
    var skipped: [SkippedAgent] = []

    // Workspaces and agents are stored in file order and never removed here, so a
    // duplicate's first location follows from its place in the maps.
    mutating func repeatedWorkspace(_ id: Identifier) -> String? {
        guard let first = state.workspaces.position(ofKey: id) else { return nil }
        return "duplicate workspace id \(id) (also at workspaces[\(first)].id)"
    }

    mutating func repeatedAgent(_ id: Identifier) -> String? {
        guard let first = state.agents.position(ofKey: id) else { return nil }
        // Agents are stored workspace by workspace, in file order.
        let owner = state.agents.values[first].workspaceID
        let ownerIndex = state.workspaces.position(ofKey: owner) ?? 0
        let indexInOwner = state.agents.values[..<first].count { $0.workspaceID == owner }
        return "duplicate agent id \(id) (also at workspaces[\(ownerIndex)].agents[\(indexInOwner)].id)"
    }

    mutating func add(_ workspace: Workspace) { state.workspaces.updateValue(workspace) }
    mutating func add(_ agent: Agent) { state.agents.updateValue(agent) }
    mutating func skip(_ agent: SkippedAgent) { skipped.append(agent) }
}

/// Builds a ``ZoneSnapshot`` as the file is read, keeping only identifiers besides.
struct SnapshotReader: StateVisitor {
    /// The problem reported for a repeat; the caller re-reads the file for where.
    static let repeated = "a repeated identifier"

    var builder: ZoneSnapshot.Builder
    let configuration: ZoneConfiguration
    var workspaceIDs = IdentifierMap<Identifier>()
    var agentIDs = IdentifierMap<Identifier>()
    /// The builder leaves the same agents out (and counts them).
    var skipped: [SkippedAgent] = []
    private var workspaceName = ""

    init(configuration: ZoneConfiguration, expectedAgents: Int) {
        self.configuration = configuration
        builder = ZoneSnapshot.Builder(configuration: configuration, expectedAgents: expectedAgents)
    }

    var workspaceCount: Int { workspaceIDs.count }
    var agentCount: Int { agentIDs.count }

    mutating func repeatedWorkspace(_ id: Identifier) -> String? { workspaceIDs.contains(id) ? Self.repeated : nil }
    mutating func repeatedAgent(_ id: Identifier) -> String? { agentIDs.contains(id) ? Self.repeated : nil }

    mutating func add(_ workspace: Workspace) {
        workspaceIDs.updateValue(workspace.id)
        workspaceName = workspace.name
    }

    mutating func skip(_ agent: SkippedAgent) { skipped.append(agent) }

    mutating func add(_ agent: Agent) {
        agentIDs.updateValue(agent.id)
        builder.add(agentID: agent.id, agentName: agent.name, workspaceNumber: workspaceIDs.count - 1, workspaceName: workspaceName)
    }

    consuming func finish(serial: UInt32) -> ZoneSnapshot {
        // The identifiers are no longer needed: free them, and give the pages back, before
        // the index is finished (its sorting arrays are the peak of a load's memory).
        workspaceIDs = IdentifierMap()
        agentIDs = IdentifierMap()
        MemoryTrim.release()
        return ZoneSnapshot(building: builder, configuration: configuration, serial: serial)
    }
}

extension Identifier: IdentifiedValue {
    public var id: Identifier { self }
}
