import ControlPlane
import EventIO
import RecordStore
import Responder

/// Everything an operator asks first, gathered at one moment from the running server: for
/// `coderdns status`, the metrics and systemd's STATUS line. Times are Unix seconds.
public struct StatusReport: Sendable {
    public enum SourceKind: String, Sendable {
        case coder, controlPlane = "control-plane", file, none
    }

    public var now: Double
    public var startedAt: Double
    public var listen: [String]
    public var sourceKind: SourceKind
    /// The deployment's URL, the endpoint, or the file.
    public var source: String
    /// For a stream (coderd or `--control-plane`): where it stands.
    public var sourceState: ControlPlaneStatistics.SourceState?
    /// For a file: when it was last (re)loaded.
    public var fileLoadedAt: Double?
    public var serial: UInt32
    public var hasData: Bool
    public var names: Int
    public var agents: Int
    public var workspaceNames: Int
    public var skippedAgents: Int
    /// Whether the snapshot served is a layer of diffs over a whole build (not yet folded).
    public var layered: Bool
    public var owner: String
    public var suffix: String
    public var udp: QueryCounters
    public var tcp: QueryCounters
    /// Replies in about the last minute, UDP and TCP together (nil until a minute of samples).
    public var lastMinute: QueryCounters?
    public var tcpAccepted = 0
    public var tcpOpen = 0
    public var tcpEvicted = 0
    public var tcpAcceptFailures = 0
    public var udpSendFailures = 0
    /// Per-batch answer latency, UDP and TCP (``EventIO/LatencyHistogram``).
    public var latency = LatencyHistogram.Snapshot()
    public var connections = 0
    public var messagesApplied = 0
    /// Of those, diffs published as a layer over the last whole build.
    public var layeredSnapshots = 0
    public var messagesRejected = 0
    public var recordProblems = 0
    public var cachePath: String?
    /// When the cache file was last written (its modification time); nil when there is none.
    public var cacheWrittenAt: Double?
    public var cacheWrites = 0
    public var cacheFailures = 0

    public init(
        now: Double, startedAt: Double, listen: [String], sourceKind: SourceKind, source: String, snapshot: ZoneSnapshot,
        udp: QueryCounters, tcp: QueryCounters
    ) {
        self.now = now
        self.startedAt = startedAt
        self.listen = listen
        self.sourceKind = sourceKind
        self.source = source
        serial = snapshot.serial
        hasData = snapshot.hasData
        names = snapshot.nameCount
        agents = snapshot.agentAddressCount
        workspaceNames = snapshot.workspaceNameCount
        skippedAgents = snapshot.skippedAgents
        layered = !snapshot.isWhole
        owner = snapshot.configuration.owner
        suffix = snapshot.configuration.suffix.description
        self.udp = udp
        self.tcp = tcp
    }

    /// Seconds since the data source last confirmed the data served; nil when none is served.
    public var dataAge: Double? {
        guard hasData else { return nil }
        if let sourceState { return sourceState.dataAge(now: now) }
        return fileLoadedAt.map { max(0, now - $0) }
    }

    public enum Health: Int32, Sendable {
        /// Serving data, and its source is there (or it is a file).
        case healthy = 0
        /// No data yet, stale (`--max-stale`), or the stream is disconnected (the last known
        /// names still serve).
        case degraded = 1
    }

    public var health: Health {
        guard hasData, sourceState?.stale != true else { return .degraded }
        if let sourceState, !sourceState.connected { return .degraded }
        return .healthy
    }

    /// In a few words, for systemd's STATUS= and the first line a person reads.
    public var summary: String {
        let data = hasData ? "\(names) names" : (sourceState?.stale == true ? "stale data withdrawn" : "no data yet")
        switch sourceKind {
        case .coder, .controlPlane:
            let connected = sourceState?.connected == true ? "connected" : "disconnected"
            return "serving \(data) from \(source) (\(connected))"
        case .file: return "serving \(data) from \(source)"
        case .none: return "serving \(data)"
        }
    }
}
