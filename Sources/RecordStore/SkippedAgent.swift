/// An agent whose names are not served, where it was found and why: what a loader returns
/// so that the server can log it once. Its workspace and its other names are unaffected.
public struct SkippedAgent: Equatable, Sendable, CustomStringConvertible {
    /// Where it is, for example `workspaces[2].agents[0]` in a state file.
    public let location: String
    /// Why, for example `the agent name "dev.box" has a '.' in it`.
    public let reason: String

    public init(location: String, reason: String) {
        self.location = location
        self.reason = reason
    }

    public var description: String { "\(location): \(reason)" }
}
