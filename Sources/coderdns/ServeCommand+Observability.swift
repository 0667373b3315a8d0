import ControlPlane
import EventIO
import Logging
import Observability
import RecordStore
import Responder

#if canImport(Glibc)
    import Glibc
#endif

extension ServeCommand {
    /// The metrics endpoint and the control socket, when asked for (the socket is by default).
    /// Neither is worth refusing to serve DNS for: a failure is logged and the server goes on.
    func startObservability(
        server: DNSServer, publisher: SnapshotPublisher, client: ControlPlaneClient?, feed: (any UpdateFeed)?, addresses: [SocketAddress],
        startedAt: Double, fileLoadedAt: LoadTime, configuration: ZoneConfiguration, logger: Logger
    ) -> ObservabilityServer? {
        let socketPath = controlSocket ?? ControlClient.defaultPath()
        guard metricsListen != nil || socketPath != "none" else { return nil }
        let counters = server.liveCounters
        let statistics = client?.statistics
        let listen = addresses.map(\.text)
        let kind: StatusReport.SourceKind = followsCoder ? .coder : controlPlane != nil ? .controlPlane : snapshot != nil ? .file : .none
        let source = feed?.destination ?? snapshot ?? "none"
        let cachePath = stateDir.map { StateCache(directory: $0).currentPath }
        let snapshotPath = feed == nil ? snapshot : nil
        let sources = ObservabilityServer.Sources(
            report: {
                let (udp, tcp) = counters.snapshot
                var report = StatusReport(
                    now: ControlPlaneClient.wallClock(), startedAt: startedAt, listen: listen, sourceKind: kind, source: source,
                    snapshot: publisher.snapshot, udp: udp, tcp: tcp)
                report.fileLoadedAt = fileLoadedAt.value
                report.tcpAccepted = counters.tcpTransport.accepted.load(ordering: .relaxed)
                report.tcpOpen = counters.tcpTransport.open.load(ordering: .relaxed)
                report.tcpEvicted = counters.tcpTransport.evicted.load(ordering: .relaxed)
                report.tcpAcceptFailures = counters.tcpTransport.acceptFailures.load(ordering: .relaxed)
                report.udpSendFailures = counters.udpSendFailures
                report.latency = counters.latency
                if let statistics {
                    report.sourceState = statistics.source.withLock { $0 }
                    report.connections = statistics.connections.load(ordering: .relaxed)
                    report.messagesApplied = statistics.messagesApplied.load(ordering: .relaxed)
                    report.layeredSnapshots = statistics.layeredSnapshots.load(ordering: .relaxed)
                    report.messagesRejected = statistics.messagesRejected.load(ordering: .relaxed)
                    report.recordProblems = statistics.namesSkipped.load(ordering: .relaxed)
                    report.cacheWrites = statistics.cacheWrites.load(ordering: .relaxed)
                    report.cacheFailures = statistics.cacheFailures.load(ordering: .relaxed)
                }
                if let cachePath {
                    report.cachePath = cachePath
                    var status = stat()
                    if stat(cachePath, &status) == 0 {
                        report.cacheWrittenAt = Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9
                    }
                }
                return report
            },
            snapshot: { publisher.snapshot },
            reload: {
                guard let snapshotPath else {
                    return (false, "nothing to reload: the names follow \(source); reload re-reads a --snapshot file")
                }
                let outcome = Self.reload(snapshotPath, configuration: configuration, publisher: publisher, logger: logger)
                if outcome.succeeded { fileLoadedAt.markNow() }
                return outcome
            },
            summaryChanged: { summary in SystemdNotify.send("STATUS=\(summary)") })
        let observability = ObservabilityServer(sources: sources)
        if let metricsListen, let address = try? SocketAddress(metricsListen) {
            do {
                try observability.serveMetrics(host: address.host, port: Int(address.port))
                logger.info("metrics", metadata: ["url": "http://\(address.text)/metrics"])
            } catch {
                logger.error("cannot serve metrics; going on without them", metadata: ["listen": "\(metricsListen)", "error": "\(error)"])
            }
        }
        if socketPath != "none" {
            do {
                try observability.serveControl(at: socketPath)
            } catch {
                logger.warning("no control socket; `coderdns status` cannot reach this server", metadata: ["error": "\(error)"])
            }
        }
        return observability
    }
}
