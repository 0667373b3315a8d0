import EventIO
import Logging
import RecordStore

/// How the server listens.
public struct ServerOptions: Sendable {
    public var listen: [SocketAddress]
    /// RFC 7766 6.2.3: idle connections are closed after this many seconds.
    public var tcpIdleTimeout: Double
    /// Connections beyond this many are closed as soon as they are accepted.
    public var maximumTCPConnections: Int
    /// Datagrams per recvmmsg/sendmmsg.
    public var udpBatchSize: Int
    /// Seconds between reads of a busy UDP socket (``UDPCoalescing``); 0: always read on
    /// readiness. The defaults here are the command line's.
    public var udpCoalesceDelay: Double
    /// Datagrams a second from which a socket counts as busy.
    public var udpCoalesceRate: Double
    /// The longest UDP query read whole: longer ones are cut short and get FORMERR. Queries
    /// are a name and an OPT record; 4096 bytes leaves room for any padding or cookie, and
    /// keeps a batch's buffers within a few pages (65,535-byte buffers spread each batch
    /// over 32 pages and their TLB entries).
    public static let udpReceiveSize = 4096

    public init(
        listen: [SocketAddress], tcpIdleTimeout: Double = 5, maximumTCPConnections: Int = 256, udpBatchSize: Int = 32,
        udpCoalesceDelay: Double = 0.0001, udpCoalesceRate: Double = 40_000
    ) {
        self.listen = listen
        self.tcpIdleTimeout = tcpIdleTimeout
        self.maximumTCPConnections = maximumTCPConnections
        self.udpBatchSize = udpBatchSize
        self.udpCoalesceDelay = udpCoalesceDelay
        self.udpCoalesceRate = udpCoalesceRate
    }
}

/// The server's sockets spread over worker event loops: every loop gets its own
/// SO_REUSEPORT UDP socket per address (the kernel spreads datagrams over them), and the
/// first loop also serves TCP. All answer from the one publisher.
public final class DNSServer {
    private var udpEndpoints: [UDPEndpoint] = []
    private var tcpListeners: [TCPListener] = []
    private var udpResponders: [UDPResponder] = []
    private let tcpResponder: TCPResponder

    /// - Parameter loops: one per worker thread; the first also serves TCP.
    public init(loops: [EventLoop], publisher: SnapshotPublisher, options: ServerOptions, logger: Logger) throws(EventIOError) {
        precondition(!loops.isEmpty, "a server needs an event loop")
        tcpResponder = TCPResponder(publisher: publisher, options: options, logger: logger)
        for loop in loops {
            let responder = UDPResponder(publisher: publisher)
            udpResponders.append(responder)
            for address in options.listen {
                udpEndpoints.append(
                    try UDPEndpoint(
                        loop: loop, address: address, handler: responder, batchSize: options.udpBatchSize,
                        receiveSize: ServerOptions.udpReceiveSize, replySize: QueryProcessor.maximumUDPPayload, reusePort: loops.count > 1,
                        coalescing: UDPCoalescing(delay: options.udpCoalesceDelay, enterRate: options.udpCoalesceRate)))
            }
        }
        let loop = loops[0]
        for address in options.listen {
            let responder = tcpResponder
            let logger = logger
            tcpListeners.append(
                try TCPListener(
                    loop: loop, address: address, onAccept: { responder.accept($0) },
                    onError: { logger.warning("TCP accept failed", metadata: ["error": "\($0)"]) }))
        }
    }

    /// How many times the UDP sockets switched between readiness and timer reads.
    public var udpCoalescingSwitches: Int { udpEndpoints.map(\.coalescingSwitches).reduce(0, +) }

    /// UDP replies the kernel refused to send (all sockets), and the last such errno (0: none).
    /// Read once the loops have stopped.
    public var udpSendFailures: (count: Int, lastError: Int32) {
        (udpEndpoints.map(\.sendFailures).reduce(0, +), udpEndpoints.map(\.lastSendError).last { $0 != 0 } ?? 0)
    }

    /// Outcome counts over UDP (all workers) and TCP. Read once the loops have stopped.
    public var counters: (udp: QueryCounters, tcp: QueryCounters) {
        (udpResponders.map(\.processor.counters).reduce(QueryCounters(), +), tcpResponder.processor.counters)
    }

    /// Every processor's live counters, to be read from any thread while the loops run
    /// (metrics, `coderdns status`): summed when read, never shared while counting.
    public var liveCounters: LiveServerCounters {
        LiveServerCounters(udp: udpResponders.map(\.processor.liveCounters), tcp: tcpResponder.processor.liveCounters)
    }
}

/// Handles on the counters of a running server's processors.
public struct LiveServerCounters: Sendable {
    let udp: [LiveQueryCounters]
    let tcp: LiveQueryCounters

    /// UDP (all workers) and TCP counts now.
    public var snapshot: (udp: QueryCounters, tcp: QueryCounters) {
        (udp.map(\.snapshot).reduce(QueryCounters(), +), tcp.snapshot)
    }
}

/// UDP: the snapshot is taken once per batch; each datagram is processed into its reply buffer.
final class UDPResponder: DatagramHandler {
    let processor = QueryProcessor()
    private let publisher: SnapshotPublisher
    private var snapshot: ZoneSnapshot?

    init(publisher: SnapshotPublisher) {
        self.publisher = publisher
    }

    func beginBatch() { snapshot = publisher.snapshot }

    func handle(_ request: UnsafeRawBufferPointer, reply: UnsafeMutableRawBufferPointer) -> Int {
        guard let snapshot, processor.process(request, snapshot: snapshot, transport: .udp) else { return 0 }
        return processor.copyReply(into: reply)
    }

    func endBatch() { snapshot = nil }
}

/// TCP: framing, pipelining (each query answered as soon as it is complete), idle timeouts
/// and the connection cap.
final class TCPResponder {
    let processor = QueryProcessor()
    private let publisher: SnapshotPublisher
    private let options: ServerOptions
    private let logger: Logger
    private var sessions: [ObjectIdentifier: Session] = [:]
    private let clock: () -> Double

    final class Session {
        let connection: TCPConnection
        var framer = TCPFramer()
        var deadline: IdleDeadline
        init(connection: TCPConnection, deadline: IdleDeadline) {
            self.connection = connection
            self.deadline = deadline
        }
    }

    init(publisher: SnapshotPublisher, options: ServerOptions, logger: Logger, clock: @escaping () -> Double = EventLoop.monotonicNow) {
        self.publisher = publisher
        self.options = options
        self.logger = logger
        self.clock = clock
    }

    func accept(_ connection: TCPConnection) {
        guard sessions.count < options.maximumTCPConnections else {
            logger.debug("TCP connection refused: at the connection cap", metadata: ["cap": "\(options.maximumTCPConnections)"])
            connection.close()
            return
        }
        let session = Session(connection: connection, deadline: IdleDeadline(timeout: options.tcpIdleTimeout, now: clock()))
        let key = ObjectIdentifier(connection)
        sessions[key] = session
        connection.onData = { [unowned self, unowned session] bytes in self.received(bytes, on: session) }
        connection.onTimer = { [unowned self, unowned session] in self.timerFired(session) }
        connection.onClose = { [unowned self] in self.sessions[key] = nil }
        connection.scheduleTimer(after: options.tcpIdleTimeout)
    }

    private func received(_ bytes: UnsafeRawBufferPointer, on session: Session) {
        session.deadline.noteActivity(at: clock())
        let snapshot = publisher.snapshot
        var lengthPrefix: [UInt8] = [0, 0]
        session.framer.receive(bytes) { message in
            guard processor.process(message, snapshot: snapshot, transport: .tcp) else { return }
            let reply = processor.reply
            lengthPrefix[0] = UInt8(reply.count >> 8)
            lengthPrefix[1] = UInt8(reply.count & 0xFF)
            lengthPrefix.withUnsafeBytes { session.connection.write($0) }
            reply.withUnsafeBytes { session.connection.write($0) }
        }
    }

    private func timerFired(_ session: Session) {
        if let left = session.deadline.remaining(at: clock()) {
            session.connection.scheduleTimer(after: left)
        } else {
            logger.trace("closing idle TCP connection")
            session.connection.close()
        }
    }
}
