/// Which TCP connections stay when the server is full, when each must close, and how much
/// unsent output one may hold (docs/behaviour.md, "UDP and TCP"). Sans-I/O: the transport
/// reports what happened, with the time from an injected clock, and does what it is told.
///
/// One rule serves all three: a connection is worth keeping while it makes progress, and
/// progress is a complete query received (or its replies all sent). Bytes that do not finish
/// a query are not progress, so a client that sends nothing, one byte of a prefix, or one
/// byte a second ages exactly like an idle one.
///
/// - At the cap a new connection is always admitted, and the connection whose last progress
///   is oldest is closed to make room (RFC 7766 6.2.3 lets a server close idle connections
///   under load). A well-behaved client sends its query as soon as it connects, so it is
///   the newest to make progress and the last to be evicted: an attacker would have to open
///   `maximumConnections` connections between a client's connect and its first query.
/// - A connection is closed `idleTimeout` seconds after its last progress.
/// - Reading pauses while more than ``outputHighWater`` bytes wait for a client that reads
///   slowly; more than ``outputLimit`` closes the connection.
public struct TCPConnectionPolicy: Sendable {
    /// A connection as the policy knows it: numbered in the order admitted.
    public typealias ConnectionID = Int

    /// Above this much unsent output, stop reading queries from the connection until it is
    /// all sent. A resolver has a few queries in flight; 32 KiB is hundreds of replies.
    public static let outputHighWater = 32 * 1024
    /// Above this much unsent output the client is not reading: close the connection. One
    /// read (up to 16 KiB of pipelined queries) can overshoot the high-water mark by its
    /// replies; 128 KiB leaves room for that and bounds what a non-reader costs.
    public static let outputLimit = 128 * 1024

    public let maximumConnections: Int
    public let idleTimeout: Double

    /// The time of each open connection's last progress.
    private var progress: [ConnectionID: Double] = [:]
    private var nextID: ConnectionID = 0

    public init(maximumConnections: Int, idleTimeout: Double) {
        precondition(maximumConnections > 0, "a server must admit at least one TCP connection")
        self.maximumConnections = maximumConnections
        self.idleTimeout = idleTimeout
    }

    /// Open connections.
    public var count: Int { progress.count }

    /// Admits a new connection: its identifier, and the connection to close first when the
    /// server is at the cap.
    public mutating func admit(now: Double) -> (id: ConnectionID, evict: ConnectionID?) {
        let evict = progress.count >= maximumConnections ? leastRecentlyUseful : nil
        if let evict { progress[evict] = nil }
        let id = nextID
        nextID += 1
        progress[id] = now
        return (id, evict)
    }

    /// The connection whose last progress is oldest (the lower identifier, the older
    /// connection, on a tie); nil when there are none. Also the one to give up when the
    /// process runs out of descriptors.
    public var leastRecentlyUseful: ConnectionID? {
        var best: (id: ConnectionID, time: Double)?
        for (id, time) in progress {
            if let current = best, current.time < time || (current.time == time && current.id < id) { continue }
            best = (id, time)
        }
        return best?.id
    }

    /// A complete query arrived, or every reply queued was sent.
    public mutating func noteProgress(_ id: ConnectionID, now: Double) {
        guard let last = progress[id] else { return }
        progress[id] = max(last, now)
    }

    /// When `id` is to be closed for lack of progress; nil when it is not open.
    public func deadline(of id: ConnectionID) -> Double? {
        progress[id].map { $0 + idleTimeout }
    }

    /// The connection has closed (whoever closed it).
    public mutating func remove(_ id: ConnectionID) {
        progress[id] = nil
    }

    /// What to do with a connection that has `pendingBytes` of output not yet sent.
    public enum OutputAction: Equatable, Sendable {
        case read
        case pauseReading
        case close
    }

    public static func action(forPendingOutput pendingBytes: Int) -> OutputAction {
        if pendingBytes > outputLimit { return .close }
        if pendingBytes > outputHighWater { return .pauseReading }
        return .read
    }
}
