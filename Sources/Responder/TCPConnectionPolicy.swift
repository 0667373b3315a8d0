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
///   under load). A new connection counts as making progress ``newConnectionGrace``
///   after it is admitted: a well-behaved client sends its query as soon as it connects,
///   but the server reads it only when the connection's turn comes, and by then every
///   connection of an attacker that floods queries has made progress. With the grace, the
///   client outranks every connection admitted before it, and an attacker would have to
///   open `maximumConnections` connections between a client's connect and its reply.
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

    /// How long after its admission a new connection ranks as having just made progress, for
    /// eviction only (not for the idle timeout). Long enough for the server to get round to
    /// reading a client's query while every other connection is busy (a turn over 256
    /// connections takes milliseconds to, in a debug build, a few hundred); short enough
    /// that a connection which then does nothing soon ranks by what it did.
    public static let newConnectionGrace = 1.0

    public let maximumConnections: Int
    public let idleTimeout: Double
    public let grace: Double

    private struct Standing {
        /// The last progress (admission counts as the first).
        var progress: Double
        /// Admission plus the grace.
        let protectedUntil: Double
        /// What eviction compares.
        var rank: Double { max(progress, protectedUntil) }
    }

    private var connections: [ConnectionID: Standing] = [:]
    private var nextID: ConnectionID = 0

    public init(maximumConnections: Int, idleTimeout: Double, grace: Double = newConnectionGrace) {
        precondition(maximumConnections > 0, "a server must admit at least one TCP connection")
        self.maximumConnections = maximumConnections
        self.idleTimeout = idleTimeout
        self.grace = grace
    }

    /// Open connections.
    public var count: Int { connections.count }

    /// Admits a new connection: its identifier, and the connection to close first when the
    /// server is at the cap.
    public mutating func admit(now: Double) -> (id: ConnectionID, evict: ConnectionID?) {
        let evict = connections.count >= maximumConnections ? leastRecentlyUseful : nil
        if let evict { connections[evict] = nil }
        let id = nextID
        nextID += 1
        connections[id] = Standing(progress: now, protectedUntil: now + grace)
        return (id, evict)
    }

    /// The connection whose last progress is oldest, a new connection's counted as
    /// ``grace`` after its admission (the lower identifier, the older connection, on a
    /// tie); nil when there are none. Also the one to give up when the process runs out of
    /// descriptors.
    public var leastRecentlyUseful: ConnectionID? {
        var best: (id: ConnectionID, rank: Double)?
        for (id, standing) in connections {
            let rank = standing.rank
            if let current = best, current.rank < rank || (current.rank == rank && current.id < id) { continue }
            best = (id, rank)
        }
        return best?.id
    }

    /// A complete query arrived, or every reply queued was sent.
    public mutating func noteProgress(_ id: ConnectionID, now: Double) {
        guard let last = connections[id]?.progress else { return }
        connections[id]?.progress = max(last, now)
    }

    /// When `id` is to be closed for lack of progress; nil when it is not open.
    public func deadline(of id: ConnectionID) -> Double? {
        connections[id].map { $0.progress + idleTimeout }
    }

    /// The connection has closed (whoever closed it).
    public mutating func remove(_ id: ConnectionID) {
        connections[id] = nil
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
