import EventIO
import Glibc
import Logging
import RecordStore
import Synchronization

public struct ControlPlaneOptions: Sendable {
    public var endpoint: ControlPlaneEndpoint
    /// Sent in the WorkspaceUpdatesRequest; nil sends an empty owner id.
    public var ownerID: Identifier?
    /// Where the state cache lives; nil keeps no cache.
    public var stateDirectory: String?
    /// Seconds without a control-plane connection after which the last known state stops
    /// being served (SERVFAIL instead); nil serves it for as long as it takes.
    public var maximumStale: Double?
    public var minimumBackoff = 0.05
    public var maximumBackoff = 10.0
    /// Cache writes are coalesced: at most one per this many seconds.
    public var cacheWriteInterval = 0.25
    public var connectTimeout = 5.0
    /// The largest message accepted; a longer one is rejected and the connection redialed.
    public var maximumMessageLength = 64 << 20

    public init(endpoint: ControlPlaneEndpoint, ownerID: Identifier? = nil, stateDirectory: String? = nil, maximumStale: Double? = nil) {
        self.endpoint = endpoint
        self.ownerID = ownerID
        self.stateDirectory = stateDirectory
        self.maximumStale = maximumStale
    }
}

/// Counts kept by the client, readable from any thread.
public final class ControlPlaneStatistics: Sendable {
    public let connections = Atomic<Int>(0)
    public let messagesApplied = Atomic<Int>(0)
    public let messagesRejected = Atomic<Int>(0)
    /// Problems in applied messages (``UpdateProblem``): records skipped, names not served.
    public let namesSkipped = Atomic<Int>(0)
    public let cacheWrites = Atomic<Int>(0)
    public let cacheFailures = Atomic<Int>(0)
    public init() {}
}

/// Follows the control plane's workspace update stream on a thread of its own.
///
/// On every connection it sends one WorkspaceUpdatesRequest, then applies each
/// WorkspaceUpdate whole: the first on a connection is a snapshot that replaces the state,
/// later ones are diffs. Each applied message becomes a new record snapshot, built here (off
/// the packet path) and published with one swap. A message that cannot be applied is
/// rejected whole, the previous state keeps serving, and the connection is redialed.
///
/// When the connection drops, the last known state keeps serving (Coder's PLAT-110 fix)
/// until the next snapshot replaces it, or until `maximumStale` passes with no connection.
public final class ControlPlaneClient: Sendable {
    private let options: ControlPlaneOptions
    private let configuration: ZoneConfiguration
    private let publisher: SnapshotPublisher
    private let logger: Logger
    /// Handed to the client thread once, then dropped, so no second copy of a large state
    /// stays alive after the first snapshot replaces it.
    private let initialState: Mutex<WorkspaceState?>
    private let initialAge: Double
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<WorkerThread?>(nil)
    public let statistics = ControlPlaneStatistics()

    /// - Parameters:
    ///   - initialState: what is being served already (from the cache or a state file).
    ///   - initialAge: seconds since a control plane last confirmed that state.
    public init(
        options: ControlPlaneOptions, configuration: ZoneConfiguration, publisher: SnapshotPublisher, initialState: WorkspaceState?,
        initialAge: Double = 0, logger: Logger
    ) {
        self.options = options
        self.configuration = configuration
        self.publisher = publisher
        self.initialState = Mutex(initialState)
        self.initialAge = initialAge
        self.logger = logger
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    public func start() throws(EventIOError) {
        let started = try WorkerThread(for: "the control-plane client") { [self] in
            var session = Session(client: self)
            session.run()
        }
        thread.withLock { $0 = started }
    }

    /// Stops the thread (after writing any pending cache) and waits for it.
    public func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        var byte: UInt8 = 1
        _ = write(wakeWrite, &byte, 1)
        thread.withLock { $0 }?.join()
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// The client thread's mutable state.
    struct Session {
        let client: ControlPlaneClient
        var state: WorkspaceState?
        var dirty = false
        var lastCacheWrite = -Double.infinity
        /// When the last connection ended (or, before the first, when the state was last
        /// confirmed); nil while connected.
        var disconnectedSince: Double?
        var staleDropped = false
        /// The last published snapshot's ``ZoneSnapshot/skippedAgents``: logged when it changes.
        var skippedAgents = 0
        var backoff: Backoff
        let cache: StateCache?

        init(client: ControlPlaneClient) {
            self.client = client
            state = client.initialState.withLock { state in
                defer { state = nil }
                return state
            }
            disconnectedSince = ControlPlaneClient.now() - client.initialAge
            backoff = Backoff(minimum: client.options.minimumBackoff, maximum: client.options.maximumBackoff)
            cache = client.options.stateDirectory.map(StateCache.init(directory:))
        }

        var logger: Logger { client.logger }
        var isStopping: Bool { client.stopping.load(ordering: .sequentiallyConsistent) }

        mutating func run() {
            checkStale()
            while !isStopping {
                if let fd = connect() {
                    serve(fd)
                    close(fd)
                    disconnectedSince = ControlPlaneClient.now()
                }
                guard !isStopping else { break }
                idle(for: backoff.next(random: Double.random(in: 0..<1)))
            }
            if dirty { writeCache() }
        }

        /// Waits up to `seconds`, writing the cache and dropping stale data when due; returns
        /// early when stopped.
        mutating func idle(for seconds: Double) {
            let deadline = ControlPlaneClient.now() + seconds
            while !isStopping {
                let now = ControlPlaneClient.now()
                guard now < deadline else { return }
                var wait = deadline - now
                if dirty { wait = min(wait, max(0, lastCacheWrite + client.options.cacheWriteInterval - now)) }
                if let maximum = client.options.maximumStale, let since = disconnectedSince, !staleDropped {
                    wait = min(wait, max(0, since + maximum - now))
                }
                var fds = [pollfd(fd: client.wakeRead, events: Int16(POLLIN), revents: 0)]
                _ = poll(&fds, 1, Int32(min(wait * 1000 + 1, 60_000)))
                housekeeping()
            }
        }

        mutating func housekeeping() {
            if dirty && ControlPlaneClient.now() - lastCacheWrite >= client.options.cacheWriteInterval { writeCache() }
            checkStale()
        }

        mutating func checkStale() {
            guard let maximum = client.options.maximumStale, let since = disconnectedSince, !staleDropped, state != nil else { return }
            let away = ControlPlaneClient.now() - since
            guard away >= maximum else { return }
            staleDropped = true
            client.publisher.publish(.empty(configuration: client.configuration))
            logger.warning(
                "no control-plane connection for longer than --max-stale: no longer serving the last known state",
                metadata: ["away_seconds": "\(Int(away))"])
        }

        mutating func writeCache() {
            guard let cache, let state else {
                dirty = false
                return
            }
            do {
                try cache.save(state, now: UInt64(time(nil)))
                client.statistics.cacheWrites.add(1, ordering: .relaxed)
            } catch {
                client.statistics.cacheFailures.add(1, ordering: .relaxed)
                logger.error("cannot write the state cache", metadata: ["error": "\(error)"])
            }
            dirty = false
            lastCacheWrite = ControlPlaneClient.now()
            // The encoded cache, and the states and snapshots replaced since the last write,
            // are freed by now: return that memory (at most a few times a second).
            MemoryTrim.release()
        }

        /// Reads and applies messages until the connection ends, a message is rejected, or
        /// the client stops.
        mutating func serve(_ fd: Int32) {
            client.statistics.connections.add(1, ordering: .relaxed)
            disconnectedSince = nil
            let request = WorkspaceUpdatesRequest(workspaceOwnerID: client.options.ownerID.map(IdentifierField.init) ?? .empty)
            guard writeAll(fd, DelimitedFramer.frame(request.serializedBytes())) else {
                logger.info("control-plane connection failed while sending the request", metadata: ["endpoint": "\(client.options.endpoint)"])
                return
            }
            logger.info("control-plane connected", metadata: ["endpoint": "\(client.options.endpoint)"])
            var framer = DelimitedFramer(maximumMessageLength: client.options.maximumMessageLength)
            var first = true
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            while !isStopping {
                var wait = 60.0
                if dirty { wait = max(0, lastCacheWrite + client.options.cacheWriteInterval - ControlPlaneClient.now()) }
                var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: client.wakeRead, events: Int16(POLLIN), revents: 0)]
                let ready = poll(&fds, 2, Int32(wait * 1000 + 1))
                housekeeping()
                if ready <= 0 || fds[0].revents == 0 { continue }
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else {
                    logger.info("control-plane connection closed", metadata: ["endpoint": "\(client.options.endpoint)"])
                    return
                }
                framer.append(buffer[0..<count])
                do {
                    while let message = try framer.nextMessage() {
                        try apply(message, isSnapshot: first)
                        first = false
                        backoff.reset()
                    }
                } catch {
                    client.statistics.messagesRejected.add(1, ordering: .relaxed)
                    logger.warning(
                        "control-plane message rejected; still serving the previous state, redialing",
                        metadata: ["error": "\(error)"])
                    return
                }
            }
        }

        mutating func apply(_ bytes: [UInt8], isSnapshot: Bool) throws {
            let started = ControlPlaneClient.now()
            let update = try WorkspaceUpdate.decode(bytes)
            let decoded = ControlPlaneClient.now()
            let base = isSnapshot ? WorkspaceState() : (state ?? WorkspaceState())
            let (next, problems) = base.applying(update)
            let applied = ControlPlaneClient.now()
            if !problems.isEmpty {
                client.statistics.namesSkipped.add(problems.count, ordering: .relaxed)
                for problem in problems.prefix(20) { logger.warning("control-plane message partly skipped", metadata: ["problem": "\(problem)"]) }
                if problems.count > 20 { logger.warning("control-plane message: more problems", metadata: ["count": "\(problems.count - 20)"]) }
            }
            let snapshot = ZoneSnapshot(state: next, configuration: client.configuration, serial: client.publisher.nextSerial())
            client.publisher.publish(snapshot)
            let published = ControlPlaneClient.now()
            if snapshot.skippedAgents != skippedAgents {
                // Names over 255 bytes are only found here: they depend on the configuration.
                skippedAgents = snapshot.skippedAgents
                logger.warning("agents whose names are not served (not DNS labels, or over 255 bytes)", metadata: ["count": "\(skippedAgents)"])
            }
            state = next
            // A big snapshot leaves megabytes of freed decoding buffers in this thread's malloc
            // arena; give them back rather than carry them as resident memory.
            if bytes.count > 1 << 20 { MemoryTrim.release() }
            staleDropped = false
            dirty = true
            client.statistics.messagesApplied.add(1, ordering: .relaxed)
            logger.debug(
                "applied control-plane \(isSnapshot ? "snapshot" : "update")",
                metadata: [
                    "workspaces": "\(next.workspaces.count)", "agents": "\(next.agents.count)",
                    "milliseconds": "\(Int((ControlPlaneClient.now() - started) * 1000))",
                    "decode_ms": "\(Int((decoded - started) * 1000))", "apply_ms": "\(Int((applied - decoded) * 1000))",
                    "build_publish_ms": "\(Int((published - applied) * 1000))",
                ])
        }

        func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
                if written < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN {
                        var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)]
                        guard poll(&fds, 1, 5000) > 0 else { return false }
                        continue
                    }
                    return false
                }
                offset += written
            }
            return true
        }

        /// A connected socket, or nil (logged at debug: redials are routine).
        func connect() -> Int32? {
            let endpoint = client.options.endpoint
            let fd: Int32
            let result: Int32
            switch endpoint {
            case .unix(let path):
                fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                guard fd >= 0 else { return nil }
                var address = sockaddr_un()
                address.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &address.sun_path) { raw in
                    raw.copyBytes(from: Array(path.utf8) + [0])
                }
                result = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
            case .inet:
                guard let address = endpoint.socketAddress else { return nil }
                fd = socket(
                    address.family == .v6 ? AF_INET6 : AF_INET,
                    Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
                guard fd >= 0 else { return nil }
                result = address.withSockaddr { Glibc.connect(fd, $0, $1) }
            }
            if result != 0 {
                guard errno == EINPROGRESS || errno == EAGAIN else {
                    logger.debug("control-plane dial failed", metadata: ["endpoint": "\(endpoint)", "errno": "\(errno)"])
                    close(fd)
                    return nil
                }
                var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0), pollfd(fd: client.wakeRead, events: Int16(POLLIN), revents: 0)]
                let ready = poll(&fds, 2, Int32(client.options.connectTimeout * 1000))
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
                guard ready > 0, fds[0].revents != 0, error == 0 else {
                    logger.debug("control-plane dial failed", metadata: ["endpoint": "\(endpoint)", "errno": "\(error)"])
                    close(fd)
                    return nil
                }
            }
            return fd
        }
    }
}
