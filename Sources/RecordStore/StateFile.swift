import DNSWire
import Foundation

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
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            let reason = (error as NSError).localizedFailureReason ?? "cannot be read"
            throw StateFileError(source: path, location: "", problem: "cannot read the file (\(reason))")
        }
        return try parse(data, source: path, configuration: configuration)
    }

    public static func parse(_ data: Data, source: String, configuration: ZoneConfiguration) throws(StateFileError) -> WorkspaceState {
        func fail(_ location: String, _ problem: String) -> StateFileError {
            StateFileError(source: source, location: location, problem: problem)
        }
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            let detail = (error as NSError).userInfo["NSDebugDescription"] as? String ?? "\(error)"
            throw fail("", "not valid JSON: \(detail)")
        }
        guard let object = root as? [String: Any] else { throw fail("", "the top level is not a JSON object") }
        guard let list = object["workspaces"] else { throw fail("", "no \"workspaces\" key") }
        guard let workspaces = list as? [Any] else { throw fail("workspaces", "not an array") }

        var state = WorkspaceState()
        var workspaceLocations: [Identifier: String] = [:]
        var agentLocations: [Identifier: String] = [:]
        for (workspaceIndex, item) in workspaces.enumerated() {
            let here = "workspaces[\(workspaceIndex)]"
            guard let fields = item as? [String: Any] else { throw fail(here, "not an object") }
            let id = try identifier(fields["id"], at: here + ".id", fail)
            if let first = workspaceLocations[id] {
                throw fail(here + ".id", "duplicate workspace id \(id) (also at \(first))")
            }
            workspaceLocations[id] = here + ".id"
            let name = try label(fields["name"], at: here + ".name", fail)
            var status = WorkspaceStatus.unknown
            if let value = fields["status"] {
                guard let text = value as? String, let parsed = WorkspaceStatus(name: text) else {
                    throw fail(here + ".status", "\(describe(value)) is not a workspace status (RUNNING, STOPPED, ...)")
                }
                status = parsed
            }
            state.workspaces[id] = Workspace(id: id, name: name, status: status)

            let agentList = fields["agents"] ?? [Any]()
            guard let agents = agentList as? [Any] else { throw fail(here + ".agents", "not an array") }
            for (agentIndex, agentItem) in agents.enumerated() {
                let there = "\(here).agents[\(agentIndex)]"
                guard let agentFields = agentItem as? [String: Any] else { throw fail(there, "not an object") }
                let agentID = try identifier(agentFields["id"], at: there + ".id", fail)
                if let first = agentLocations[agentID] {
                    throw fail(there + ".id", "duplicate agent id \(agentID) (also at \(first))")
                }
                agentLocations[agentID] = there + ".id"
                let agentName = try label(agentFields["name"], at: there + ".name", fail)
                let longest = [agentName, name, configuration.owner].reduce(0) { $0 + 1 + $1.utf8.count }
                if longest + configuration.suffix.wire.count > DomainName.maximumWireLength {
                    throw fail(there + ".name", "\(agentName).\(name).\(configuration.owner).\(configuration.suffix) is longer than 255 bytes")
                }
                state.agents[agentID] = Agent(id: agentID, name: agentName, workspaceID: id)
            }
        }
        return state
    }

    private static func identifier(
        _ value: Any?, at location: String, _ fail: (String, String) -> StateFileError
    ) throws(StateFileError) -> Identifier {
        guard let value else { throw fail(location, "missing") }
        guard let text = value as? String, let id = Identifier(string: text) else {
            throw fail(location, "\(describe(value)) is not a UUID")
        }
        return id
    }

    private static func label(
        _ value: Any?, at location: String, _ fail: (String, String) -> StateFileError
    ) throws(StateFileError) -> String {
        guard let value else { throw fail(location, "missing") }
        guard let text = value as? String else { throw fail(location, "\(describe(value)) is not a string") }
        if let reason = DNSLabel.problem(with: text) {
            throw fail(location, "\(describe(text)) is not a valid DNS label: it \(reason)")
        }
        return text.lowercased()
    }

    private static func describe(_ value: Any) -> String {
        if let text = value as? String { return "\"\(text)\"" }
        if value is NSNull { return "null" }
        return "\(value)"
    }
}
