import DNSWire
import Foundation

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

    public static func parse(_ data: Data, source: String, configuration: ZoneConfiguration) throws(StateFileError) -> WorkspaceState {
        try parse(bytes: [UInt8](data), source: source, configuration: configuration)
    }

    static func parse(bytes: [UInt8], source: String, configuration: ZoneConfiguration) throws(StateFileError) -> WorkspaceState {
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
        // Where each id was first seen (workspace index; workspace and agent index), kept as
        // numbers: a location string per entry would cost more than the state itself.
        var workspaceLocations: [Identifier: Int] = [:]
        var agentLocations: [Identifier: (workspace: Int, agent: Int)] = [:]
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
            try cursor.readArray { workspaceIndex, cursor in
                let here = "workspaces[\(workspaceIndex)]"
                guard try cursor.kind() == .object else {
                    try cursor.skipValue()
                    throw fail(here, "not an object")
                }
                var idValue: Field?
                var nameValue: Field?
                var statusValue: Field?
                var agents: [(id: Field?, name: Field?, index: Int)] = []
                try cursor.readObject { key, cursor in
                    switch key {
                    case "id": idValue = try Field(&cursor)
                    case "name": nameValue = try Field(&cursor)
                    case "status": statusValue = try Field(&cursor)
                    case "agents":
                        guard try cursor.kind() == .array else {
                            try cursor.skipValue()
                            throw fail(here + ".agents", "not an array")
                        }
                        agents = []
                        try cursor.readArray { agentIndex, cursor in
                            let there = "\(here).agents[\(agentIndex)]"
                            guard try cursor.kind() == .object else {
                                try cursor.skipValue()
                                throw fail(there, "not an object")
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
                            agents.append((agentID, agentName, agentIndex))
                        }
                    default:
                        try cursor.skipValue()
                    }
                }
                let id = try identifier(idValue, at: here + ".id", fail)
                if let first = workspaceLocations[id] {
                    throw fail(here + ".id", "duplicate workspace id \(id) (also at workspaces[\(first)].id)")
                }
                workspaceLocations[id] = workspaceIndex
                let name = try label(nameValue, at: here + ".name", fail)
                var status = WorkspaceStatus.unknown
                if let statusValue {
                    guard let text = statusValue.string, let parsed = WorkspaceStatus(name: text) else {
                        throw fail(here + ".status", "\(statusValue.text) is not a workspace status (RUNNING, STOPPED, ...)")
                    }
                    status = parsed
                }
                state.workspaces[id] = Workspace(id: id, name: name, status: status)
                for agent in agents {
                    let location = "\(here).agents[\(agent.index)]"
                    let agentID = try identifier(agent.id, at: location + ".id", fail)
                    if let first = agentLocations[agentID] {
                        throw fail(
                            location + ".id", "duplicate agent id \(agentID) (also at workspaces[\(first.workspace)].agents[\(first.agent)].id)")
                    }
                    agentLocations[agentID] = (workspaceIndex, agent.index)
                    let agentName = try label(agent.name, at: location + ".name", fail)
                    let longest = [agentName, name, configuration.owner].reduce(0) { $0 + 1 + $1.utf8.count }
                    if longest + configuration.suffix.wire.count > DomainName.maximumWireLength {
                        throw fail(
                            location + ".name",
                            "\(agentName).\(name).\(configuration.owner).\(configuration.suffix) is longer than 255 bytes")
                    }
                    state.agents[agentID] = Agent(id: agentID, name: agentName, workspaceID: id)
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
        let text: String

        init(_ cursor: inout JSONCursor) throws {
            if try cursor.kind() == .string {
                let value = try cursor.readString()
                string = value
                text = "\"\(value)\""
            } else {
                string = nil
                text = try cursor.skipValue()
            }
        }
    }

    private static func identifier(
        _ value: Field?, at location: String, _ fail: (String, String) -> StateFileError
    ) throws(StateFileError) -> Identifier {
        guard let value else { throw fail(location, "missing") }
        guard let text = value.string, let id = Identifier(string: text) else {
            throw fail(location, "\(value.text) is not a UUID")
        }
        return id
    }

    private static func label(
        _ value: Field?, at location: String, _ fail: (String, String) -> StateFileError
    ) throws(StateFileError) -> String {
        guard let value else { throw fail(location, "missing") }
        guard let text = value.string else { throw fail(location, "\(value.text) is not a string") }
        if let reason = DNSLabel.problem(with: text) {
            throw fail(location, "\(value.text) is not a valid DNS label: it \(reason)")
        }
        return DNSLabel.lowercased(text)
    }
}
