import EventIO
import Glibc
import Logging
import RecordStore
import Synchronization

public struct ControlPlaneOptions: Sendable {
    /// Where the state cache lives; nil keeps no cache.
    public var stateDirectory: String?
    /// Seconds without a control-plane connection after which the last known state stops
    /// being served (SERVFAIL instead); nil serves it for as long as it takes.
    public var maximumStale: Double?
    public var minimumBackoff = 0.05
    public var maximumBackoff = 10.0
    /// Cache writes are coalesced: at most one per this many seconds.
    public var cacheWriteInterval = 0.25

    public init(stateDirectory: String? = nil, maximumStale: Double? = nil) {
        self.stateDirectory = stateDirectory
        self.maximumStale = maximumStale
    }
}

/// Counts and state kept by the client, readable from any thread (metrics, `coderdns status`).
public final class ControlPlaneStatistics: Sendable {
    public let connections = Atomic<Int>(0)
    public let messagesApplied = Atomic<Int>(0)
    /// Diffs published as a layer over the last whole build rather than built whole.
    public let layeredSnapshots = Atomic<Int>(0)
    public let messagesRejected = Atomic<Int>(0)
    /// Problems in applied messages (``UpdateProblem``): records skipped, names not served.
    public let namesSkipped = Atomic<Int>(0)
    public let cacheWrites = Atomic<Int>(0)
    public let cacheFailures = Atomic<Int>(0)
    public let source = Mutex(SourceState())
    public init() {}

    /// Where the data source stands. Times are Unix seconds.
    public struct SourceState: Sendable, Equatable {
        public var connected = false
        /// When `connected` last changed (or the client started).
        public var since = ControlPlaneClient.wallClock()
        /// When the source last confirmed the state being served: while connected, now; nil
        /// when nothing was ever confirmed.
        public var confirmedAt: Double?
        /// The last failure, in the words of its log line.
        public var lastError: String?
        /// `--max-stale` passed: the state is no longer served.
        public var stale = false

        /// Seconds since the source confirmed the data, 0 while connected; nil with no data.
        public func dataAge(now: Double) -> Double? {
            if connected { return 0 }
            return confirmedAt.map { max(0, now - $0) }
        }
    }
}

/// Follows a workspace update stream (an ``UpdateFeed``) on a thread of its own.
///
/// On every connection the feed sends its request; each `WorkspaceUpdate` is then applied
/// whole: the first on a connection is a snapshot that replaces the state, later ones are
/// diffs. Each applied message becomes a new record snapshot, built here (off the packet path)
/// and published with one swap. A message that does not decode is rejected whole, the previous
/// state keeps serving, and the connection is redialed.
///
/// When the connection drops, the last known state keeps serving (Coder's PLAT-110 fix)
/// until the next snapshot replaces it, or until `maximumStale` passes with no connection.
/// When a connection reports a new owner or suffix (coderd's), the state is rebuilt under
/// it and published as one new snapshot.
public final class ControlPlaneClient: Sendable {
    private let options: ControlPlaneOptions
    private let feed: any UpdateFeed
    private let startingConfiguration: ZoneConfiguration
    private let publisher: SnapshotPublisher
    private let logger: Logger
    /// Handed to the client thread once, then dropped, so no second copy of a large state
    /// stays alive after the first snapshot replaces it.
    private let initialState: Mutex<WorkspaceState?>
    private let initialAge: Double
    /// Woken to stop.
    private let wake = WakePipe()
    private let stopping = Atomic<Bool>(false)
    private let thread = Mutex<WorkerThread?>(nil)
    public let statistics = ControlPlaneStatistics()

    /// - Parameters:
    ///   - configuration: the zone until a connection says otherwise.
    ///   - initialState: what is being served already (from the cache or a state file).
    ///   - initialAge: seconds since a control plane last confirmed that state.
    public init(
        feed: any UpdateFeed, options: ControlPlaneOptions, configuration: ZoneConfiguration, publisher: SnapshotPublisher,
        initialState: WorkspaceState?, initialAge: Double = 0, logger: Logger
    ) {
        self.feed = feed
        self.options = options
        self.startingConfiguration = configuration
        self.publisher = publisher
        self.initialState = Mutex(initialState)
        self.initialAge = initialAge
        self.logger = logger
    }

    public func start() throws(EventIOError) {
        let started = try WorkerThread(for: "the control-plane client") { [self] in
            var session = Session(client: self)
            session.run()
        }
        thread.withLock { $0 = started }
    }

    /// Stops the thread (after writing any pending cache) and waits for it.
    ///
    /// The thread is taken out, not only joined: its closure holds this client, so keeping it
    /// would be a reference cycle that outlives the client (LeakSanitizer found it).
    public func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        feed.cancel()
        wake.wake()
        thread.withLock { $0.take() }?.join()
    }

    /// How long the stream must be quiet before a layered snapshot is folded into a whole build.
    static let compactionQuietTime = 1.0

    /// The most workspace names a layer may cover over `whole` before the next diff builds
    /// whole: a layer costs its names' agents on every diff, a whole build costs every name.
    static func layerLimit(_ whole: ZoneSnapshot) -> Int { max(256, whole.workspaceNameCount / 16) }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Unix seconds, for what people and metrics read.
    public static func wallClock() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// The client thread's mutable state.
    struct Session {
        let client: ControlPlaneClient
        var state: WorkspaceState?
        var configuration: ZoneConfiguration
        var dirty = false
        var lastCacheWrite = -Double.infinity
        /// When the last connection ended (or, before the first, when the state was last
        /// confirmed); nil while connected.
        var disconnectedSince: Double?
        var staleDropped = false
        /// The last published snapshot's ``ZoneSnapshot/skippedAgents``: logged when it changes.
        var skippedAgents = 0
        /// The last snapshot built whole from the state, and the workspace names that diffs
        /// changed since: a diff is published as a layer over it (docs/architecture.md).
        var whole: ZoneSnapshot?
        var changedSinceWhole: Set<String> = []
        /// When the last message was applied: a layer is folded into a whole build once the
        /// stream has been quiet for ``ControlPlaneClient/compactionQuietTime``.
        var lastAppliedAt = -Double.infinity
        var backoff: Backoff
        let cache: StateCache?

        init(client: ControlPlaneClient) {
            self.client = client
            state = client.initialState.withLock { state in
                defer { state = nil }
                return state
            }
            configuration = client.startingConfiguration
            disconnectedSince = ControlPlaneClient.now() - client.initialAge
            backoff = Backoff(minimum: client.options.minimumBackoff, maximum: client.options.maximumBackoff)
            cache = client.options.stateDirectory.map(StateCache.init(directory:))
        }

        var logger: Logger { client.logger }
        var isStopping: Bool { client.stopping.load(ordering: .sequentiallyConsistent) }

        mutating func run() {
            let age = client.initialAge
            let hasState = state != nil
            client.statistics.source.withLock { source in
                source.confirmedAt = hasState ? ControlPlaneClient.wallClock() - age : nil
            }
            checkStale()
            while !isStopping {
                switch client.feed.connect() {
                case .success(let connection):
                    serve(connection)
                    connection.close()
                    disconnectedSince = ControlPlaneClient.now()
                    let ended = ControlPlaneClient.wallClock()
                    client.statistics.source.withLock { source in
                        source.connected = false
                        source.since = ended
                        source.confirmedAt = ended
                    }
                case .failure(let failure):
                    guard !isStopping else { break }
                    report(failure)
                }
                guard !isStopping else { break }
                idle(for: backoff.next(random: Double.random(in: 0..<1)))
            }
            if dirty { writeCache() }
        }

        /// One log line for a failed dial or an ended connection; a permanent-looking failure
        /// backs off to the maximum at once.
        mutating func report(_ failure: FeedFailure) {
            client.statistics.source.withLock { $0.lastError = failure.message }
            if failure.isRejectedMessage { client.statistics.messagesRejected.add(1, ordering: .relaxed) }
            let metadata: Logger.Metadata = ["source": "\(client.feed.destination)"]
            switch failure.severity {
            case .routine: logger.info("\(failure.message); names keep serving, redialing", metadata: metadata)
            case .problem: logger.warning("\(failure.message); names keep serving, redialing", metadata: metadata)
            }
            if failure.isPermanent { backoff.saturate() }
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
                var fds = [pollfd(fd: client.wake.descriptor, events: Int16(POLLIN), revents: 0)]
                _ = poll(&fds, 1, Int32(min(wait * 1000 + 1, 60_000)))
                housekeeping()
            }
        }

        mutating func housekeeping() {
            compactIfQuiet()
            if dirty && ControlPlaneClient.now() - lastCacheWrite >= client.options.cacheWriteInterval { writeCache() }
            checkStale()
        }

        mutating func checkStale() {
            guard let maximum = client.options.maximumStale, let since = disconnectedSince, !staleDropped, state != nil else { return }
            let away = ControlPlaneClient.now() - since
            guard away >= maximum else { return }
            staleDropped = true
            client.statistics.source.withLock { $0.stale = true }
            client.publisher.publish(.empty(configuration: configuration))
            whole = nil
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

        /// A connection that names another owner or suffix: the state is served under it from
        /// now on, as one new snapshot, and remembered beside the cache for the next start.
        mutating func adopt(_ identity: FeedIdentity) {
            let next: ZoneConfiguration
            do {
                next = try ZoneConfiguration(suffix: identity.suffix, owner: identity.owner)
            } catch {
                logger.warning("the deployment's owner or suffix cannot be served; keeping the previous one", metadata: ["error": "\(error)"])
                return
            }
            if let directory = client.options.stateDirectory {
                do {
                    try DeploymentRecord(identity: identity, destination: client.feed.destination).save(directory: directory)
                } catch {
                    logger.error("cannot write the deployment record", metadata: ["error": "\(error)"])
                }
            }
            guard next != configuration else { return }
            logger.notice(
                "the zone follows the deployment",
                metadata: [
                    "owner": "\(next.owner)", "suffix": "\(next.suffix)", "was_owner": "\(configuration.owner)",
                    "was_suffix": "\(configuration.suffix)",
                ])
            configuration = next
            guard !staleDropped else { return }
            if let state {
                publish(state)
            } else {
                client.publisher.publish(.empty(configuration: next))
                whole = nil
            }
        }

        /// Builds `state`'s snapshot under the current configuration and publishes it with one swap.
        mutating func publish(_ state: WorkspaceState) {
            let snapshot = ZoneSnapshot(state: state, configuration: configuration, serial: client.publisher.nextSerial())
            client.publisher.publish(snapshot)
            whole = snapshot
            changedSinceWhole = []
            noteSkippedAgents(snapshot)
        }

        /// Publishes `state` after a diff that changed `changed` (nil: everything): as a layer
        /// over the last whole build when there is one for this configuration and the names
        /// changed since are few (the layer is rebuilt from all of them each time), else whole.
        mutating func publish(_ state: WorkspaceState, changed: Set<String>?) {
            guard let changed, let whole, whole.configuration == configuration else { return publish(state) }
            changedSinceWhole.formUnion(changed)
            guard changedSinceWhole.count <= ControlPlaneClient.layerLimit(whole) else { return publish(state) }
            let names = changedSinceWhole
            var layered: ZoneSnapshot?
            client.publisher.publish { serial in
                layered = ZoneSnapshot.updating(whole, state: state, changedNames: names, serial: serial)
                return layered ?? ZoneSnapshot(state: state, configuration: configuration, serial: serial)
            }
            if let layered {
                client.statistics.layeredSnapshots.add(1, ordering: .relaxed)
                noteSkippedAgents(layered)
            } else {
                // Shared addresses: the build above was whole.
                self.whole = client.publisher.snapshot
                changedSinceWhole = []
                noteSkippedAgents(client.publisher.snapshot)
            }
        }

        /// Folds the layer into a whole build of the same records (same serial: the zone did
        /// not change) once the stream is quiet, so that the next diff's layer starts small.
        mutating func compactIfQuiet() {
            guard !changedSinceWhole.isEmpty, let state, whole != nil, !staleDropped,
                ControlPlaneClient.now() - lastAppliedAt >= ControlPlaneClient.compactionQuietTime
            else { return }
            // Only the serial of the current snapshot is kept: it and the whole build under it
            // must be freed before the memory is trimmed.
            let (isWhole, serial) = { (current: ZoneSnapshot) in (current.isWhole, current.serial) }(client.publisher.snapshot)
            changedSinceWhole = []
            guard !isWhole else { return }
            whole = nil
            let snapshot = ZoneSnapshot(state: state, configuration: configuration, serial: serial)
            client.publisher.publish(snapshot)
            whole = snapshot
            MemoryTrim.release()
        }

        mutating func noteSkippedAgents(_ snapshot: ZoneSnapshot) {
            if snapshot.skippedAgents != skippedAgents {
                // Names over 255 bytes are only found here: they depend on the owner and suffix.
                skippedAgents = snapshot.skippedAgents
                logger.warning("agents whose names are not served (not DNS labels, or over 255 bytes)", metadata: ["count": "\(skippedAgents)"])
            }
        }

        /// Applies messages until the connection ends, a message is rejected, or the client
        /// stops.
        mutating func serve(_ connection: any UpdateConnection) {
            client.statistics.connections.add(1, ordering: .relaxed)
            disconnectedSince = nil
            let connected = ControlPlaneClient.wallClock()
            client.statistics.source.withLock { source in
                source.connected = true
                source.since = connected
                source.confirmedAt = connected
            }
            if let identity = connection.identity { adopt(identity) }
            logger.info("control-plane connected", metadata: ["source": "\(client.feed.destination)"])
            var first = true
            var messages: [[UInt8]] = []
            while !isStopping {
                var wait = 60.0
                if dirty { wait = max(0, lastCacheWrite + client.options.cacheWriteInterval - ControlPlaneClient.now()) }
                if !changedSinceWhole.isEmpty {
                    wait = min(wait, max(0, lastAppliedAt + ControlPlaneClient.compactionQuietTime - ControlPlaneClient.now()))
                }
                var fds = [
                    pollfd(fd: connection.descriptor, events: Int16(POLLIN), revents: 0),
                    pollfd(fd: client.wake.descriptor, events: Int16(POLLIN), revents: 0),
                ]
                let ready = poll(&fds, 2, Int32(wait * 1000 + 1))
                housekeeping()
                if ready <= 0 || fds[0].revents == 0 { continue }
                let ended = connection.receive(into: &messages)
                for index in messages.indices {
                    do {
                        try apply(&messages[index], isSnapshot: first)
                    } catch {
                        client.statistics.messagesRejected.add(1, ordering: .relaxed)
                        logger.warning(
                            "control-plane message rejected; still serving the previous state, redialing",
                            metadata: ["error": "\(error)", "source": "\(client.feed.destination)"])
                        return
                    }
                    first = false
                    backoff.reset()
                }
                messages.removeAll()
                if let ended {
                    report(ended)
                    return
                }
            }
        }

        /// Decodes and applies one message. Memory at the peak of a large snapshot matters
        /// (the old state, the message, the decoded update, the new state and the new snapshot
        /// could all be alive at once): once the message has decoded, its bytes are let go, and
        /// a snapshot lets the old state go too; the published snapshot keeps serving meanwhile.
        mutating func apply(_ bytes: inout [UInt8], isSnapshot: Bool) throws {
            let started = ControlPlaneClient.now()
            let size = bytes.count
            let update = try WorkspaceUpdate.decode(bytes)
            bytes = []
            if isSnapshot { state = nil }
            let decoded = ControlPlaneClient.now()
            // Applied in place: the session's reference is let go first, so a diff copies nothing.
            var next = isSnapshot ? WorkspaceState() : (state ?? WorkspaceState())
            state = nil
            var changed: Set<String>? = isSnapshot ? nil : []
            let problems = next.apply(update, changedNames: &changed)
            let applied = ControlPlaneClient.now()
            if !problems.isEmpty {
                client.statistics.namesSkipped.add(problems.count, ordering: .relaxed)
                for problem in problems.prefix(20) { logger.warning("control-plane message partly skipped", metadata: ["problem": "\(problem)"]) }
                if problems.count > 20 { logger.warning("control-plane message: more problems", metadata: ["count": "\(problems.count - 20)"]) }
            }
            if isSnapshot { publish(next) } else { publish(next, changed: changed) }
            let published = ControlPlaneClient.now()
            lastAppliedAt = published
            state = next
            // A big snapshot leaves megabytes of freed decoding buffers in this thread's malloc
            // arena; give them back rather than carry them as resident memory.
            if size > 1 << 20 { MemoryTrim.release() }
            if staleDropped { client.statistics.source.withLock { $0.stale = false } }
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
    }
}
