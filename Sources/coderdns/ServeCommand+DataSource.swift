import CoderClient
import ControlPlane
import EventIO
import Logging
import RecordStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where the names come from: the stream to follow (coderd or the delimited control plane),
/// the starting state (the cache or the file), and the state file's loads and reloads.
extension ServeCommand {
    var followsCoder: Bool { coder || coderUrl != nil }

    /// The stream to follow: coderd's (`--coder`), the delimited one (`--control-plane`), or
    /// none (the state file alone).
    func makeFeed(login: CoderLogin?) throws -> (any UpdateFeed)? {
        if let login {
            var options = CoderOptions(login: login)
            options.caFile = coderCaFile
            options.owner = owner
            options.ownerID = ownerId.flatMap(Identifier.init(string:))
            options.suffix = suffix
            options.keepAliveInterval = coderKeepalive
            options.keepAliveTimeout = min(10, coderKeepalive)
            return try CoderFeed(options: options)
        }
        if let controlPlane {
            return DelimitedFeed(endpoint: try ControlPlaneEndpoint(controlPlane), ownerID: ownerId.flatMap(Identifier.init(string:)))
        }
        return nil
    }

    /// The state to serve before anything else arrives, and its age in seconds.
    ///
    /// With a feed: the cache when it has a good copy, else `--snapshot`. (Without one, `run`
    /// reads `--snapshot` itself, and `--state-dir` is refused.) A bad `--snapshot` file is
    /// fatal even when the cache would serve (exit status 2); a bad cache is reported and
    /// ignored.
    func startingState(configuration: ZoneConfiguration, useCache: Bool, logger: Logger) throws -> (WorkspaceState?, Double) {
        var fileState: WorkspaceState?
        if let snapshot {
            do {
                let loaded = try StateFile.load(path: snapshot, configuration: configuration)
                fileState = loaded.state
                logger.reportSkipped(loaded.skipped, file: snapshot)
            } catch {
                throw fail("\(error)", status: 2)
            }
        }
        if let stateDir, useCache {
            let started = EventLoop.monotonicNow()
            let loaded = StateCache(directory: stateDir).load(configuration: configuration)
            for problem in loaded.problems {
                logger.error("ignoring a bad state cache", metadata: ["problem": "\(problem)"])
            }
            if let state = loaded.state {
                let age = max(0, Double(time(nil)) - Double(loaded.savedAt ?? 0))
                logger.info(
                    "loaded the state cache",
                    metadata: [
                        "file": "\(loaded.source ?? "")", "age_seconds": "\(Int(age))",
                        "milliseconds": "\(Int((EventLoop.monotonicNow() - started) * 1000))",
                    ])
                return (state, age)
            }
        }
        if let fileState {
            logger.info("loaded workspace state", metadata: ["file": "\(snapshot ?? "")"])
            return (fileState, 0)
        }
        return (nil, 0)
    }

    /// Reads the state file straight into a snapshot (no state is kept without a control
    /// plane) and publishes it: at start-up and on SIGHUP.
    static func publishFile(
        _ path: String, configuration: ZoneConfiguration, publisher: SnapshotPublisher, logger: Logger
    ) throws(StateFileError) -> (workspaces: Int, agents: Int) {
        var counts = (workspaces: 0, agents: 0)
        // A file that is rejected uses up no SOA serial.
        try publisher.publish { (serial: UInt32) throws(StateFileError) -> ZoneSnapshot in
            let loaded = try StateFile.loadSnapshot(path: path, configuration: configuration, serial: serial)
            logger.reportSkipped(loaded.skipped, file: path)
            counts = (loaded.workspaces, loaded.agents)
            return loaded.snapshot
        }
        return counts
    }

    /// Held while a reload reads and builds: one at a time (SIGHUP and the control socket
    /// alike), so that two never hold a large file's state at once.
    static let reloading = Mutex<Void>(())

    /// SIGHUP: re-reads the state file; a bad file is rejected whole and the old data keeps serving.
    @discardableResult
    static func reload(
        _ path: String, configuration: ZoneConfiguration, publisher: SnapshotPublisher, logger: Logger
    ) -> (succeeded: Bool, message: String) {
        reloading.withLock { _ in reloadNow(path, configuration: configuration, publisher: publisher, logger: logger) }
    }

    private static func reloadNow(
        _ path: String, configuration: ZoneConfiguration, publisher: SnapshotPublisher, logger: Logger
    ) -> (succeeded: Bool, message: String) {
        do {
            let started = EventLoop.monotonicNow()
            let counts = try publishFile(path, configuration: configuration, publisher: publisher, logger: logger)
            let milliseconds = Int((EventLoop.monotonicNow() - started) * 1000)
            logger.info(
                "reloaded workspace state", metadata: ["file": "\(path)", "agents": "\(counts.agents)", "milliseconds": "\(milliseconds)"])
            MemoryTrim.release()
            return (true, "reloaded \(path): \(counts.workspaces) workspaces, \(counts.agents) agents in \(milliseconds) ms")
        } catch {
            logger.error("reload rejected, still serving the previous state", metadata: ["error": "\(error)"])
            return (false, "reload rejected, still serving the previous state: \(error)")
        }
    }
}

/// When the state file was last read, shared by the reloads and `coderdns status`.
final class LoadTime: Sendable {
    private let time = Mutex<Double?>(nil)
    var value: Double? { time.withLock { $0 } }
    func markNow() { time.withLock { $0 = ControlPlaneClient.wallClock() } }
}
