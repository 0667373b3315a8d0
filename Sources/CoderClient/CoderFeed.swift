import ControlPlane
import NIOCore
import NIOSSL
import RecordStore
import Yamux

/// How to follow a deployment: the login, and what the command line overrides.
public struct CoderOptions: Sendable {
    public var login: CoderLogin
    /// A private CA's certificates (PEM), trusted besides the system's store.
    public var caFile: String?
    /// `--owner`, `--owner-id`, `--suffix`: used instead of what the deployment says.
    public var owner: String?
    public var ownerID: Identifier?
    public var suffix: String?
    /// The largest `WorkspaceUpdate` accepted (a DRPC packet); a larger one ends the connection.
    public var maximumMessageSize = 64 << 20
    /// Our own yamux pings, to notice a server that went away without a word.
    public var keepAliveInterval = 30.0
    public var keepAliveTimeout = 10.0

    public init(login: CoderLogin) {
        self.login = login
    }
}

/// coderd's workspace update stream, the way Coder Connect's own tunnel reaches it:
/// `GET /api/v2/users/me` (who the owner is), `GET /api/v2/workspaceagents/connection`
/// (the suffix), then `GET /api/v2/tailnet?version=2.3` upgraded to a WebSocket, yamux on it,
/// and DRPC's `WorkspaceUpdates` call on yamux stream 1 (docs/coder.md).
public final class CoderFeed: UpdateFeed {
    let options: CoderOptions
    let connector: CoderConnector

    /// Throws for a CA file that cannot be read or a TLS set-up that fails: a configuration
    /// error, reported before the server starts.
    public init(options: CoderOptions) throws(FeedFailure) {
        self.options = options
        do {
            connector = try CoderConnector(url: options.login.url, token: options.login.token, caFile: options.caFile)
        } catch NIOSSLError.failedToLoadCertificate {
            throw FeedFailure("--coder-ca-file \(options.caFile ?? ""): not a readable PEM certificate file", isPermanent: true)
        } catch {
            throw FeedFailure("cannot set up TLS\(options.caFile.map { " with --coder-ca-file \($0)" } ?? ""): \(error)", isPermanent: true)
        }
    }

    public var destination: String { options.login.url.description }

    public func cancel() { connector.cancel() }

    public func connect() -> Result<any UpdateConnection, FeedFailure> {
        do {
            let identity = try discoverIdentity()
            let mailbox = FeedMailbox()
            let request = WorkspaceUpdatesRequest(workspaceOwnerID: identity.ownerID.map(IdentifierField.init) ?? .empty).serializedBytes()
            var configuration = YamuxConfiguration()
            configuration.keepAliveInterval = options.keepAliveInterval
            configuration.keepAliveTimeout = options.keepAliveTimeout
            let yamux = configuration
            let maximum = options.maximumMessageSize
            let place = options.login.url.place
            let channel = try connector.openTailnet {
                TailnetHandler(request: request, mailbox: mailbox, yamux: yamux, maximumMessageSize: maximum, place: place)
            }
            return .success(TailnetConnection(channel: channel, mailbox: mailbox, identity: identity))
        } catch {
            return .failure(error)
        }
    }

    /// The owner and the suffix, from the deployment unless overridden.
    func discoverIdentity() throws(FeedFailure) -> FeedIdentity {
        let url = options.login.url
        let me = try connector.get("/api/v2/users/me")
        guard me.status == 200 else { throw CoderFailure.status(me.status, body: me.body, request: "/api/v2/users/me", url: url) }
        let user: (id: Identifier, username: String)
        do {
            user = try CoderJSON.user(me.body)
        } catch {
            throw FeedFailure("\(url)/api/v2/users/me answered with JSON coderdns cannot read: \(error)")
        }
        var suffix = options.suffix
        if suffix == nil {
            let connection = try connector.get("/api/v2/workspaceagents/connection")
            guard connection.status == 200 else {
                throw CoderFailure.status(connection.status, body: connection.body, request: "/api/v2/workspaceagents/connection", url: url)
            }
            do {
                suffix = try CoderJSON.hostnameSuffix(connection.body)
            } catch {
                throw FeedFailure("\(url)/api/v2/workspaceagents/connection answered with JSON coderdns cannot read: \(error)")
            }
        }
        return FeedIdentity(owner: options.owner ?? user.username, ownerID: options.ownerID ?? user.id, suffix: suffix ?? "coder")
    }
}

/// One upgraded tailnet connection, seen from the session's thread.
final class TailnetConnection: UpdateConnection {
    let channel: any Channel
    let mailbox: FeedMailbox
    let identity: FeedIdentity?

    init(channel: any Channel, mailbox: FeedMailbox, identity: FeedIdentity) {
        self.channel = channel
        self.mailbox = mailbox
        self.identity = identity
    }

    var descriptor: Int32 { mailbox.descriptor }

    func receive(into messages: inout [[UInt8]]) -> FeedFailure? { mailbox.take(into: &messages) }

    func close() { channel.close(promise: nil) }
}
