import RecordStore

/// A way to reach a workspace update stream: the delimited stream of `--control-plane`
/// (``DelimitedFeed``) or coderd's tailnet RPC (the `CoderClient` module).
///
/// The session (``ControlPlaneClient``) owns everything the feeds share: the state, applying
/// messages, inheritance across reconnects, backoff, the cache and `--max-stale`. A feed only
/// dials and hands over whole `WorkspaceUpdate` messages.
public protocol UpdateFeed: AnyObject, Sendable {
    /// Where it goes, for log lines (an endpoint or a URL; never a secret).
    var destination: String { get }
    /// Dials and starts the stream. Blocks the calling thread (the session's) for at most its
    /// own timeouts, and returns promptly once ``cancel()`` was called.
    func connect() -> Result<any UpdateConnection, FeedFailure>
    /// Makes a `connect()` under way, and every later one, fail at once: the server is stopping.
    func cancel()
}

/// One connected stream. Used by the session's thread only.
public protocol UpdateConnection: AnyObject {
    /// What the deployment said about the zone when this connection was made, if it says
    /// anything (coderd does; the delimited stream does not).
    var identity: FeedIdentity? { get }
    /// Readable when ``receive(into:)`` may have something.
    var descriptor: Int32 { get }
    /// Without blocking: appends the messages that are complete, and returns why the
    /// connection ended if it has (after the messages that came before the end).
    func receive(into messages: inout [[UInt8]]) -> FeedFailure?
    func close()
}

/// Why a dial or a connection failed, said once, in words a person can act on.
public struct FeedFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Severity: Sendable, Equatable {
        /// Expected now and then (the server closed the stream, a redial was refused): info.
        case routine
        /// Something is wrong and may need a person: warning.
        case problem
    }

    public var message: String
    public var severity: Severity
    /// Retrying soon will not help (a bad login, a coderd too old): back off to the maximum
    /// at once instead of retrying tightly.
    public var isPermanent: Bool
    /// The stream's framing failed (a length over the cap, a bad length prefix): a message
    /// is rejected whole, and counted as one (docs/control-plane.md, "Bad messages").
    public var isRejectedMessage: Bool

    public init(_ message: String, severity: Severity = .problem, isPermanent: Bool = false, isRejectedMessage: Bool = false) {
        self.message = message
        self.severity = severity
        self.isPermanent = isPermanent
        self.isRejectedMessage = isRejectedMessage
    }

    public var description: String { message }
}

/// Who the stream is for and where the names live: what coderd's `/api/v2/users/me` and
/// `/api/v2/workspaceagents/connection` say, after `--owner`, `--owner-id` and `--suffix`.
public struct FeedIdentity: Sendable, Equatable {
    /// The `<owner>` label.
    public var owner: String
    public var ownerID: Identifier?
    /// The forward zone (`coder` unless the deployment sets `--workspace-hostname-suffix`).
    public var suffix: String

    public init(owner: String, ownerID: Identifier?, suffix: String) {
        self.owner = owner
        self.ownerID = ownerID
        self.suffix = suffix
    }
}
