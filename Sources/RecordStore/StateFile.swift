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
/// a state. Names are lower-cased; unknown keys are ignored.
public enum StateFile {
    public static func load(path: String, configuration: ZoneConfiguration) throws(StateFileError) -> WorkspaceState {
        // Read straight into one byte array: a large file is not held twice while parsing.
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw StateFileError(source: path, location: "", problem: "cannot read the file (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var info = stat()
        if fstat(fd, &info) == 0 { bytes.reserveCapacity(Int(info.st_size)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else {
                throw StateFileError(source: path, location: "", problem: "cannot read the file (\(String(cString: strerror(errno))))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return try parse(bytes: bytes, source: path, configuration: configuration)
    }

    /// Parses a whole document held in memory; `source` names it in errors.
    public static func parse(bytes: [UInt8], source: String, configuration: ZoneConfiguration) throws(StateFileError) -> WorkspaceState {
        do {
            return try parse(JSONCursor(bytes), source: source, configuration: configuration)
        } catch let error as StateFileError {
            throw error
        } catch let error as JSONCursor.SyntaxError {
            throw StateFileError(source: source, location: "", problem: "not valid JSON: \(error.description)")
        } catch {
            throw StateFileError(source: source, location: "", problem: "\(error)")
        }
    }

    /// Reads the document with a pull cursor: nothing but the resulting state is built, so a
    /// 100,000-workspace file costs little more memory than its state.
    private static func parse(_ start: JSONCursor, source: String, configuration: ZoneConfiguration) throws -> WorkspaceState {
        func fail(_ location: String, _ problem: String) -> StateFileError {
            StateFileError(source: source, location: location, problem: problem)
        }
        var cursor = start
        var state = WorkspaceState()
        // Locations are spelled out only when something is wrong: a string per entry would
        // cost more than the entry. Workspaces and agents are stored in file order and never
        // removed here, so a duplicate's first location follows from its place in the maps.
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
                if let first = state.workspaces.position(ofKey: id) {
                    throw fail(workspacePath(workspaceIndex) + ".id", "duplicate workspace id \(id) (also at \(workspacePath(first)).id)")
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
                state.workspaces.updateValue(Workspace(id: id, name: name, status: status))
                let fixedLength = 1 + name.utf8.count + 1 + configuration.owner.utf8.count + configuration.suffix.wire.count
                for (agentIndex, agent) in agents.enumerated() {
                    let agentID = try identifier(agent.id, at: agentPath(workspaceIndex, agentIndex) + ".id", fail)
                    if let first = state.agents.position(ofKey: agentID) {
                        // Agents are stored workspace by workspace, in file order.
                        let owner = state.agents.values[first].workspaceID
                        let ownerIndex = state.workspaces.position(ofKey: owner) ?? 0
                        let indexInOwner = state.agents.values[..<first].count { $0.workspaceID == owner }
                        throw fail(
                            agentPath(workspaceIndex, agentIndex) + ".id",
                            "duplicate agent id \(agentID) (also at \(agentPath(ownerIndex, indexInOwner)).id)")
                    }
                    let agentName = try label(agent.name, at: agentPath(workspaceIndex, agentIndex) + ".name", fail)
                    if 1 + agentName.utf8.count + fixedLength > DomainName.maximumWireLength {
                        throw fail(
                            agentPath(workspaceIndex, agentIndex) + ".name",
                            "\(agentName).\(name).\(configuration.owner).\(configuration.suffix) is longer than 255 bytes")
                    }
                    state.agents.updateValue(Agent(id: agentID, name: agentName, workspaceID: id))
                }
            }
        }
        try cursor.finish()
        guard sawWorkspaces else { throw fail("", "no \"workspaces\" key") }
        return state
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
        if let reason = DNSLabel.problem(with: text) {
            throw fail(location(), "\(value.text) is not a valid DNS label: it \(reason)")
        }
        return DNSLabel.lowercased(text)
    }
}
