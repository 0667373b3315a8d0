import ArgumentParser
import CoderClient
import ControlPlane
import EventIO
import Logging
import Observability
import RecordStore
import Responder
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Answer .coder names over UDP and TCP."
    )

    @Option(
        name: .customLong("listen"),
        help: ArgumentHelp(
            "Address to serve on, [v6-address]:port or v4-address:port; repeatable. Each gets a UDP socket and a TCP listener.",
            valueName: "address"))
    var listen: [String] = []

    @Flag(help: "Follow the Coder deployment you are signed in to (`coder login`): its workspaces, owner and suffix.")
    var coder = false

    @Option(help: ArgumentHelp("The deployment's URL (implies --coder). Default: CODER_URL, else the Coder CLI's login.", valueName: "url"))
    var coderUrl: String?

    @Option(
        help: ArgumentHelp(
            "A file holding the session token (for a service: systemd's LoadCredential=). Default: CODER_SESSION_TOKEN, else the Coder CLI's login.",
            valueName: "file"))
    var sessionTokenFile: String?

    @Option(help: ArgumentHelp("A private CA's certificates (PEM), trusted besides the system's store, for the deployment's TLS.", valueName: "file"))
    var coderCaFile: String?

    @Option(help: .hidden)
    var coderKeepalive: Double = 30

    @Option(help: ArgumentHelp("Workspace state as JSON (see docs/snapshot-format.md). SIGHUP reloads it.", valueName: "file"))
    var snapshot: String?

    @Option(
        help: ArgumentHelp(
            "The control plane's workspace update stream: [v6-address]:port, v4-address:port or unix:/path.", valueName: "endpoint"))
    var controlPlane: String?

    @Option(help: ArgumentHelp("Directory for the state cache, loaded at start-up so names answer before the control plane does.", valueName: "dir"))
    var stateDir: String?

    @Option(help: ArgumentHelp("The workspace owner's UUID, sent in the update request. With --coder: the signed-in user's.", valueName: "uuid"))
    var ownerId: String?

    @Option(
        help: ArgumentHelp(
            "Stop serving the last known state after this long without a control-plane connection (90s, 5m, 2h). Default: never.",
            valueName: "duration"))
    var maxStale: String?

    @Option(
        help: ArgumentHelp(
            "The <owner> in <agent>.<workspace>.<owner>.<suffix>. Default: with --coder the deployment's user name, else the login user.",
            valueName: "name"))
    var owner: String?

    @Option(help: ArgumentHelp("The DNS suffix (the forward zone). Default: with --coder the deployment's, else coder.", valueName: "suffix"))
    var suffix: String?

    @Option(help: ArgumentHelp("Seconds after its last complete query before a TCP connection is closed.", valueName: "seconds"))
    var tcpIdleTimeout: Double = 5

    @Option(
        help: ArgumentHelp(
            "TCP connections open at once; a new one closes the one whose last query is oldest (docs/behaviour.md).", valueName: "count"))
    var maxTcpConnections: Int = 256

    @Option(
        help: ArgumentHelp(
            "UDP threads, each with its own SO_REUSEPORT UDP socket per address. Default: the CPUs the process may use (its affinity, its cgroup CPU quota).",
            valueName: "count")
    )
    var workers: Int?

    @Option(
        help: ArgumentHelp(
            "Once the sockets are bound, become this user (start as root to bind port 53). See docs/setup-linux.md.", valueName: "name"))
    var user: String?

    @Option(help: ArgumentHelp("With --user: the group to become. Default: that user's primary group.", valueName: "name"))
    var group: String?

    @Option(help: ArgumentHelp("trace, debug, info, notice, warning, error or critical.", valueName: "level"))
    var logLevel: String = "info"

    @Option(help: ArgumentHelp("text, or json: one JSON object a line (for journald collectors).", valueName: "format"))
    var logFormat: String = "text"

    @Option(
        help: ArgumentHelp(
            "Serve Prometheus metrics at http://ADDRESS/metrics ([v6-address]:port or v4-address:port; keep it on loopback). Default: off.",
            valueName: "address"))
    var metricsListen: String?

    @Option(
        help: ArgumentHelp(
            "The control socket `coderdns status` asks. Default: /run/coderdns/control for root, else $XDG_RUNTIME_DIR/coderdns/control; none: no socket.",
            valueName: "path"))
    var controlSocket: String?

    static let defaultListen = "[fd60:627a:a42b::53]:53"

    func validate() throws {
        guard tcpIdleTimeout > 0, tcpIdleTimeout <= 3600 else {
            throw ValidationError("--tcp-idle-timeout must be between 0 and 3600 seconds")
        }
        if let controlPlane {
            do { _ = try ControlPlaneEndpoint(controlPlane) } catch { throw ValidationError("--control-plane: \(error)") }
        }
        if let ownerId, Identifier(string: ownerId) == nil { throw ValidationError("--owner-id: \"\(ownerId)\" is not a UUID") }
        if let maxStale, Duration.seconds(from: maxStale) == nil {
            throw ValidationError("--max-stale: \"\(maxStale)\" is not a duration like 90s, 5m or 2h")
        }
        if followsCoder && controlPlane != nil { throw ValidationError("--coder and --control-plane are two data sources: pick one") }
        if !followsCoder && (sessionTokenFile != nil || coderCaFile != nil) {
            throw ValidationError("--session-token-file and --coder-ca-file need --coder")
        }
        if let coderUrl {
            do { _ = try CoderURL(coderUrl) } catch { throw ValidationError("--coder-url: \(error)") }
        }
        if !(1...3600).contains(coderKeepalive) { throw ValidationError("--coder-keepalive must be between 1 and 3600 seconds") }
        // The cache holds what a feed sent; with nothing to update it, it would serve the last
        // state forever (docs/control-plane.md). --snapshot is the way to serve a fixed state.
        if controlPlane == nil && !followsCoder && (ownerId != nil || maxStale != nil || stateDir != nil) {
            throw ValidationError("--owner-id, --max-stale and --state-dir need --coder or --control-plane")
        }
        if let workers, !(1...256).contains(workers) { throw ValidationError("--workers must be between 1 and 256") }
        guard maxTcpConnections > 0 else { throw ValidationError("--max-tcp-connections must be at least 1") }
        if let metricsListen {
            do { _ = try SocketAddress(metricsListen) } catch { throw ValidationError("--metrics-listen: \(error)") }
        }
        guard ["text", "json"].contains(logFormat) else { throw ValidationError("--log-format must be text or json") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
    }

    func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        let json = logFormat == "json"
        LoggingSystem.bootstrap { label in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "coderdns")
        let identity = try privilegeTarget()
        try prepareStateDirectory(for: identity)

        let addresses: [SocketAddress]
        do {
            addresses = try (listen.isEmpty ? [Self.defaultListen] : listen).map { (text: String) throws(EventIOError) in try SocketAddress(text) }
        } catch {
            throw fail("--listen: \(error)", status: 64)
        }
        // With --coder: the login, and what the deployment said last time (beside the cache).
        var login: CoderLogin?
        var record: DeploymentRecord?
        var useCache = stateDir != nil
        if followsCoder {
            do {
                login = try CoderLogin.discover(urlFlag: coderUrl, tokenFile: sessionTokenFile)
            } catch {
                throw fail("\(error)", status: 64)
            }
            for warning in login?.warnings ?? [] { logger.warning("\(warning)") }
            if let stateDir, let url = login?.url.description {
                record = DeploymentRecord.load(directory: stateDir)
                if let other = record?.destination, other != url {
                    logger.notice(
                        "the state cache is from another deployment: not serving it", metadata: ["cache_source": "\(other)", "source": "\(url)"])
                    record = nil
                    useCache = false
                }
            }
        }
        // Following coderd, the deployment names the owner on every connection (`users/me`),
        // and nothing is served under the name before that: a login name the system cannot
        // tell (a service's dynamic user without nss-systemd) or that is no DNS label must not
        // stop it, so `me` stands in until then. Otherwise the login user's name.
        var ownerName = try owner ?? record?.identity.owner ?? (login != nil ? (try? Self.loginUser(quiet: true)) ?? "me" : Self.loginUser())
        if login != nil, owner == nil, (try? ZoneConfiguration(suffix: suffix ?? record?.identity.suffix ?? "coder", owner: ownerName)) == nil {
            ownerName = "me"
        }
        let configuration: ZoneConfiguration
        do {
            configuration = try ZoneConfiguration(suffix: suffix ?? record?.identity.suffix ?? "coder", owner: ownerName)
        } catch {
            throw fail(owner == nil && error.isOwner ? "\(error) (the login user's name; pass --owner)" : "\(error)", status: 64)
        }
        let publisher = SnapshotPublisher(.empty(configuration: configuration))
        // The sockets are bound before any thread starts (the --coder feed starts SwiftNIO's),
        // so that a server started without root but with a capability to bind port 53 can
        // give it up for every thread at once: capabilities belong to each thread, and a new
        // thread copies its creator's.
        EventLoop.ignoreSIGPIPE()
        EventLoop.enableThreads()
        let workerCount = workers ?? AvailableCPUs.count()
        let loop: EventLoop
        let server: DNSServer
        do {
            // Each UDP socket is read by a thread of its own; the one event loop serves TCP.
            loop = try EventLoop()
            server = try DNSServer(
                loop: loop, publisher: publisher,
                options: ServerOptions(
                    listen: addresses, tcpIdleTimeout: tcpIdleTimeout, maximumTCPConnections: maxTcpConnections,
                    udpThreads: workerCount),
                logger: logger)
        } catch {
            throw fail("\(error)", status: 1)
        }
        try dropCapabilities(logger: logger)

        let feed: (any UpdateFeed)?
        do {
            feed = try makeFeed(login: login)
        } catch {
            throw fail("\(error)", status: 2)
        }

        let start = EventLoop.monotonicNow()
        let startedAt = ControlPlaneClient.wallClock()
        // When the state file was last read (for `coderdns status`: how old the data is).
        let fileLoadedAt = LoadTime()
        // Without a control plane the file is the only source and no state is kept: the
        // snapshot is built as the file is read.
        let fileOnly = feed == nil ? snapshot : nil
        let starting = fileOnly == nil ? try startingState(configuration: configuration, useCache: useCache, logger: logger) : (nil, 0)
        var initialState = starting.0
        let initialAge = starting.1
        let maximumStale = maxStale.flatMap(Duration.seconds(from:))
        if let fileOnly {
            do {
                let counts = try Self.publishFile(fileOnly, configuration: configuration, publisher: publisher, logger: logger)
                fileLoadedAt.markNow()
                logger.info(
                    "serving the starting state",
                    metadata: [
                        "file": "\(fileOnly)", "workspaces": "\(counts.workspaces)", "agents": "\(counts.agents)",
                        "milliseconds": "\(Int((EventLoop.monotonicNow() - start) * 1000))",
                    ])
            } catch {
                throw fail("\(error)", status: 2)
            }
        } else if let initialState {
            if let maximumStale, initialAge > maximumStale {
                logger.warning(
                    "the cached state is older than --max-stale: not serving it",
                    metadata: ["age_seconds": "\(Int(initialAge))"])
            } else {
                let loaded = EventLoop.monotonicNow()
                publisher.publish(ZoneSnapshot(state: initialState, configuration: configuration, serial: publisher.nextSerial()))
                let now = EventLoop.monotonicNow()
                logger.info(
                    "serving the starting state",
                    metadata: [
                        "workspaces": "\(initialState.workspaces.count)", "agents": "\(initialState.agents.count)",
                        "milliseconds": "\(Int((now - start) * 1000))", "load_ms": "\(Int((loaded - start) * 1000))",
                        "build_publish_ms": "\(Int((now - loaded) * 1000))",
                    ])
            }
        } else {
            logger.notice("no workspace state yet: in-zone queries get SERVFAIL until some arrives")
        }

        do {
            let stopAll = { loop.stop() }
            try loop.onSignal(SIGINT, stopAll)
            try loop.onSignal(SIGTERM, stopAll)
            // With a control plane, the stream owns the state: SIGHUP does not reload the file.
            let snapshotPath = feed == nil ? snapshot : nil
            // Reading and building a large state takes long: do it off the event loop (which
            // serves TCP), on a thread of its own, one reload at a time (`reload` takes the
            // reload lock), and publish with one swap when done.
            try loop.onSignal(SIGHUP) {
                guard let snapshotPath else { return }
                let started = WorkerThread.detached(for: "a reload") {
                    if Self.reload(snapshotPath, configuration: configuration, publisher: publisher, logger: logger).succeeded {
                        fileLoadedAt.markNow()
                    }
                }
                if !started { logger.error("cannot start a thread for the reload; still serving the previous data") }
            }
        } catch {
            throw fail("\(error)", status: 1)
        }
        try dropPrivileges(to: identity, logger: logger)
        let client = feed.map { feed in
            ControlPlaneClient(
                feed: feed, options: ControlPlaneOptions(stateDirectory: stateDir, maximumStale: maximumStale), configuration: configuration,
                publisher: publisher, initialState: initialState, initialAge: initialAge, logger: logger)
        }
        // The control socket and metrics are up before any query is answered and before
        // systemd hears READY: `coderdns status` right after start-up finds the socket.
        let observability = startObservability(
            server: server, publisher: publisher, client: client, feed: feed, addresses: addresses, startedAt: startedAt,
            fileLoadedAt: fileLoadedAt, configuration: configuration, logger: logger)
        do {
            try server.startUDPThreads()
        } catch {
            throw fail("\(error)", status: 1)
        }
        // The one start-up line: where it listens, what it serves from, and as whom.
        let source = feed?.destination ?? snapshot ?? "none"
        var startup: Logger.Metadata = [
            "listen": "\(addresses.map(\.text).joined(separator: " "))", "suffix": "\(configuration.suffix)",
            "owner": "\(configuration.owner)", "workers": "\(workerCount)", "source": "\(source)",
        ]
        if let login { startup["token_from"] = "\(login.tokenSource)" }
        if let stateDir { startup["state_dir"] = "\(stateDir)" }
        logger.info("serving", metadata: startup)
        // systemd (Type=notify): the sockets are open and the starting state is served.
        let names = publisher.snapshot.hasData ? "\(publisher.snapshot.nameCount) names" : "no data yet"
        SystemdNotify.send("READY=1\nSTATUS=serving \(names) from \(source)")
        do {
            try client?.start()
        } catch {
            throw fail("cannot start the control-plane client: \(error)", status: 71)
        }
        // The client (or the snapshot) holds what it needs; drop this copy of the state.
        initialState = nil
        // Returning the freed pages walks the whole heap (tens of milliseconds for a large
        // state): not on the main thread, whose loop serves TCP as soon as it runs.
        WorkerThread.detached(for: "returning memory") { MemoryTrim.release() }
        loop.run()
        // Stopping: a second SIGTERM or SIGINT now ends the process at once (libevent's
        // handlers would only queue it for a loop that no longer runs).
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
        SystemdNotify.send("STOPPING=1")
        server.stopUDPThreads()
        // Replies to queries already read go out before the sockets close (at most half a
        // second: a client that does not read loses its replies, not our exit).
        server.flushTCPReplies(within: 0.5)
        observability?.shutdown()
        client?.stop()
        let counters = server.counters
        let unsent = server.udpSendFailures
        if unsent.count > 0 {
            logger.warning(
                "UDP replies the kernel refused to send",
                metadata: ["count": "\(unsent.count)", "last_error": "\(String(cString: strerror(unsent.lastError)))"])
        }
        logger.info(
            "stopped",
            metadata: [
                "udp": "\(counters.udp)", "tcp": "\(counters.tcp)",
                "udp_send_failures": "\(unsent.count)",
            ])
    }

    static func loginUser(quiet: Bool = false) throws -> String {
        if let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name {
            return String(cString: name)
        }
        if quiet { throw ExitCode(64) }
        throw fail("cannot tell the login user's name; pass --owner", status: 64)
    }

    /// Prints `message` as one line and returns the exit to throw.
    static func fail(_ message: String, status: Int32) -> ExitCode {
        FileHandleOutput.standardError("coderdns: \(message)\n")
        return ExitCode(status)
    }

    func fail(_ message: String, status: Int32) -> ExitCode { Self.fail(message, status: status) }
}

extension ZoneConfiguration.Problem {
    var isOwner: Bool {
        if case .badOwner = self { return true }
        return false
    }
}
