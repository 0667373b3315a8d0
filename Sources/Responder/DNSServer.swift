import EventIO
import Logging
import RecordStore
import Synchronization

/// How the server listens.
public struct ServerOptions: Sendable {
    public var listen: [SocketAddress]
    /// RFC 7766 6.2.3: a connection is closed this many seconds after its last complete
    /// query (``TCPConnectionPolicy``).
    public var tcpIdleTimeout: Double
    /// At most this many TCP connections are open: a new one closes the one whose last
    /// complete query is oldest (``TCPConnectionPolicy``).
    public var maximumTCPConnections: Int
    /// Datagrams per recvmmsg/sendmmsg.
    public var udpBatchSize: Int
    /// UDP sockets per address, each read by a thread of its own (``UDPReaderThread``).
    public var udpThreads: Int
    /// The longest UDP query read whole: longer ones are cut short and get FORMERR. Queries
    /// are a name and an OPT record; 4096 bytes leaves room for any padding or cookie, and
    /// keeps a batch's buffers within a few pages (65,535-byte buffers spread each batch
    /// over 32 pages and their TLB entries).
    public static let udpReceiveSize = 4096

    public init(
        listen: [SocketAddress], tcpIdleTimeout: Double = 5, maximumTCPConnections: Int = 256, udpBatchSize: Int = 32,
        udpThreads: Int = 1
    ) {
        self.udpThreads = udpThreads
        self.listen = listen
        self.tcpIdleTimeout = tcpIdleTimeout
        self.maximumTCPConnections = maximumTCPConnections
        self.udpBatchSize = udpBatchSize
    }
}

/// The server's sockets: every address gets ``ServerOptions/udpThreads`` SO_REUSEPORT UDP
/// sockets, each read by a thread of its own (the kernel spreads datagrams over them), and a
/// TCP listener on the one event loop. All answer from the one publisher.
public final class DNSServer {
    private var udpReaders: [UDPReaderThread] = []
    private var tcpListeners: [TCPListener] = []
    private var udpResponders: [UDPResponder] = []
    private let tcpResponder: TCPResponder

    /// - Parameter loop: serves TCP; the UDP sockets have threads of their own, started by
    ///   ``startUDPThreads()``.
    public init(loop: EventLoop, publisher: SnapshotPublisher, options: ServerOptions, logger: Logger) throws(EventIOError) {
        precondition(options.udpThreads > 0, "a server needs a UDP thread")
        tcpResponder = TCPResponder(publisher: publisher, options: options, logger: logger)
        for _ in 0..<options.udpThreads {
            for address in options.listen {
                let responder = UDPResponder(publisher: publisher)
                udpResponders.append(responder)
                udpReaders.append(
                    try UDPReaderThread(
                        address: address, handler: responder, batchSize: options.udpBatchSize, receiveSize: ServerOptions.udpReceiveSize,
                        replySize: QueryProcessor.maximumUDPPayload, reusePort: options.udpThreads > 1))
            }
        }
        for address in options.listen {
            let responder = tcpResponder
            tcpListeners.append(
                try TCPListener(
                    loop: loop, address: address, acceptsPerTurn: min(options.maximumTCPConnections, TCPListener.maximumAcceptsPerTurn),
                    onAccept: { responder.accept($0) }, onError: { responder.acceptFailed($0) }))
        }
    }

    /// Starts the UDP sockets' own threads (``ServerOptions/udpThreads``). Threads copy
    /// their creator's capabilities: start them once those are dropped.
    public func startUDPThreads() throws(EventIOError) {
        for reader in udpReaders { try reader.start() }
    }

    /// Stops the UDP sockets' own threads and waits for them.
    public func stopUDPThreads() {
        for reader in udpReaders { reader.stop() }
    }

    /// UDP replies the kernel refused to send (all sockets), and the last such errno (0: none).
    /// Read once the UDP threads have stopped.
    public var udpSendFailures: (count: Int, lastError: Int32) {
        (udpReaders.map(\.sendFailures).reduce(0, +), udpReaders.map(\.lastSendError).last { $0 != 0 } ?? 0)
    }

    /// Outcome counts over UDP (all threads) and TCP. Read once the loop and the UDP threads
    /// have stopped.
    public var counters: (udp: QueryCounters, tcp: QueryCounters) {
        (udpResponders.map(\.processor.counters).reduce(QueryCounters(), +), tcpResponder.processor.counters)
    }

    /// At shutdown, once the loops have stopped: the replies to queries already read that are
    /// still queued on TCP connections are sent, within `seconds` for all of them.
    public func flushTCPReplies(within seconds: Double) {
        tcpResponder.flushAll(until: EventLoop.monotonicNow() + seconds)
    }

    /// Every processor's live counters, to be read from any thread while the loops run
    /// (metrics, `coderdns status`): summed when read, never shared while counting.
    public var liveCounters: LiveServerCounters {
        LiveServerCounters(
            udp: udpResponders.map(\.processor.liveCounters), tcp: tcpResponder.processor.liveCounters,
            tcpTransport: tcpResponder.transportCounters, udpEndpoints: udpReaders.map(\.sendFailureCounter),
            latencies: udpReaders.map(\.latency) + [tcpResponder.latency])
    }
}

/// Handles on the counters of a running server's processors.
public struct LiveServerCounters: Sendable {
    let udp: [LiveQueryCounters]
    let tcp: LiveQueryCounters
    public let tcpTransport: TCPTransportCounters
    let udpEndpoints: [CounterCell]
    let latencies: [LatencyHistogram]

    /// Answer latency, UDP and TCP together (``LatencyHistogram``).
    public var latency: LatencyHistogram.Snapshot { latencies.map(\.snapshot).reduce(LatencyHistogram.Snapshot(), +) }

    /// UDP replies the kernel refused to send, all threads.
    public var udpSendFailures: Int { udpEndpoints.reduce(0) { $0 + $1.value.load(ordering: .relaxed) } }

    /// UDP (all threads) and TCP counts now.
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

/// TCP: framing, pipelining (each query answered as soon as it is complete), and the
/// ``TCPConnectionPolicy``: the cap with eviction, the progress deadline, the output limit.
final class TCPResponder {
    let processor = QueryProcessor()
    private let publisher: SnapshotPublisher
    private let logger: Logger
    private var policy: TCPConnectionPolicy
    private var sessions: [TCPConnectionPolicy.ConnectionID: Session] = [:]
    private let clock: () -> Double
    /// Connections accepted, open, closed to make room, and accept failures: written by this
    /// responder's thread, readable from any.
    let transportCounters = TCPTransportCounters()
    /// How long each read took to answer, read to replies queued.
    let latency = LatencyHistogram()
    /// Connections closed to make room, for the log line at stop.
    var evictions: Int { transportCounters.evicted.load(ordering: .relaxed) }
    /// The replies to one read, length prefixes included: sent together, then reused.
    private var replies: [UInt8] = []
    private static let repliesCapacityKept = 16 * 1024
    /// Accept failures since the last warning, which is logged at most every 10 seconds.
    private var acceptFailures = 0
    private var lastAcceptWarning = -Double.infinity

    final class Session {
        let id: TCPConnectionPolicy.ConnectionID
        let connection: TCPConnection
        var framer = TCPFramer()
        var readingPaused = false
        init(id: TCPConnectionPolicy.ConnectionID, connection: TCPConnection) {
            self.id = id
            self.connection = connection
        }
    }

    init(publisher: SnapshotPublisher, options: ServerOptions, logger: Logger, clock: @escaping () -> Double = EventLoop.monotonicNow) {
        self.publisher = publisher
        self.logger = logger
        self.clock = clock
        policy = TCPConnectionPolicy(maximumConnections: options.maximumTCPConnections, idleTimeout: options.tcpIdleTimeout)
    }

    func accept(_ connection: TCPConnection) {
        let now = clock()
        let admitted = policy.admit(now: now)
        if let victim = admitted.evict {
            evict(victim, reason: "at the connection cap")
        }
        let session = Session(id: admitted.id, connection: connection)
        sessions[admitted.id] = session
        transportCounters.bump(transportCounters.accepted)
        transportCounters.open.store(sessions.count, ordering: .relaxed)
        connection.onData = { [unowned self, unowned session] bytes in self.received(bytes, on: session) }
        connection.onDrained = { [unowned self, unowned session] in self.drained(session) }
        connection.onTimer = { [unowned self, unowned session] in self.timerFired(session) }
        connection.onClose = { [unowned self] in
            self.sessions[admitted.id] = nil
            self.policy.remove(admitted.id)
            self.transportCounters.open.store(self.sessions.count, ordering: .relaxed)
        }
        connection.scheduleTimer(after: policy.idleTimeout)
    }

    /// Out of descriptors (or memory): the connection whose last progress is oldest gives
    /// its descriptor up, so the next client can be accepted, as at the cap. True when one
    /// was closed; with none to close the listener rests briefly (``TCPListener``).
    func acceptFailed(_ error: EventIOError) -> Bool {
        acceptFailures += 1
        transportCounters.bump(transportCounters.acceptFailures)
        let now = clock()
        if now - lastAcceptWarning >= 10 {
            logger.warning(
                "TCP accept failed: closing the least recently used connections to make room",
                metadata: ["error": "\(error)", "failures": "\(acceptFailures)", "open": "\(policy.count)"])
            lastAcceptWarning = now
            acceptFailures = 0
        }
        guard let victim = policy.leastRecentlyUseful else { return false }
        evict(victim, reason: "accept failed")
        return true
    }

    func flushAll(until deadline: Double) {
        for session in sessions.values { session.connection.flushPendingOutput(until: deadline) }
    }

    private func evict(_ id: TCPConnectionPolicy.ConnectionID, reason: String) {
        transportCounters.bump(transportCounters.evicted)
        logger.trace("closing a TCP connection to make room", metadata: ["reason": "\(reason)"])
        policy.remove(id)
        sessions[id]?.connection.close()
        sessions[id] = nil
        transportCounters.open.store(sessions.count, ordering: .relaxed)
    }

    private func received(_ bytes: UnsafeRawBufferPointer, on session: Session) {
        let started = clock()
        let answeredBefore = processor.liveCounters.answeredCount
        defer { latency.observe(clock() - started, count: processor.liveCounters.answeredCount - answeredBefore) }
        let snapshot = publisher.snapshot
        var answered = false
        // Kept between reads, unless one read's replies made it large (64 KiB each at most).
        replies.removeAll(keepingCapacity: replies.capacity <= Self.repliesCapacityKept)
        session.framer.receive(bytes) { message in
            answered = true
            guard processor.process(message, snapshot: snapshot, transport: .tcp) else { return }
            processor.withReply { reply in
                replies.append(UInt8(reply.count >> 8))
                replies.append(UInt8(reply.count & 0xFF))
                replies.append(contentsOf: reply)
            }
        }
        // Every reply of this read in one send.
        if !replies.isEmpty { replies.withUnsafeBytes { session.connection.write($0) } }
        // Only a complete query is progress: bytes that never finish one do not keep a
        // connection alive, nor save it from eviction.
        if answered { policy.noteProgress(session.id, now: clock()) }
        switch TCPConnectionPolicy.action(forPendingOutput: session.connection.pendingOutput) {
        case .read:
            break
        case .pauseReading:
            session.readingPaused = true
            session.connection.setReading(false)
        case .close:
            logger.debug("closing a TCP connection whose client does not read its replies")
            session.connection.close()
        }
    }

    private func drained(_ session: Session) {
        // Every reply sent: the client reads, which is progress too.
        policy.noteProgress(session.id, now: clock())
        if session.readingPaused {
            session.readingPaused = false
            session.connection.setReading(true)
        }
    }

    private func timerFired(_ session: Session) {
        guard let deadline = policy.deadline(of: session.id) else { return }
        let left = deadline - clock()
        if left > 0 {
            session.connection.scheduleTimer(after: left)
        } else {
            logger.trace("closing a TCP connection without a complete query for the idle timeout")
            session.connection.close()
        }
    }
}

/// TCP connection counts kept by the TCP responder's thread (single writer, relaxed).
public final class TCPTransportCounters: Sendable {
    public let accepted = Atomic<Int>(0)
    public let open = Atomic<Int>(0)
    public let evicted = Atomic<Int>(0)
    public let acceptFailures = Atomic<Int>(0)

    func bump(_ counter: borrowing Atomic<Int>) {
        counter.store(counter.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }
}
