import EventIO
import Responder

/// The Prometheus text exposition format (version 0.0.4) of a ``StatusReport``.
///
/// Counters are read from per-thread counters summed at scrape time (docs/architecture.md
/// says why not swift-metrics): nothing on the packet path knows metrics exist.
public enum MetricsExposition {
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The RCODEs counted, with their mnemonics.
    static func rcodes(_ counts: QueryCounters) -> [(String, Int)] {
        [
            ("NOERROR", counts.noError), ("NXDOMAIN", counts.nameError), ("SERVFAIL", counts.serverFailure), ("REFUSED", counts.refused),
            ("FORMERR", counts.formatError), ("NOTIMP", counts.notImplemented), ("BADVERS", counts.badVersion),
        ]
    }

    public static func render(_ report: StatusReport) -> String {
        var text = ""
        func family(_ name: String, _ type: String, _ help: String) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
        }
        func sample(_ name: String, _ labels: [(String, String)] = [], _ value: Double) {
            let labelText = labels.isEmpty ? "" : "{" + labels.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: ",") + "}"
            text += "\(name)\(labelText) \(format(value))\n"
        }
        let transports = [("udp", report.udp), ("tcp", report.tcp)]

        family("coderdns_queries_total", "counter", "Replies sent, by transport and RCODE.")
        for (transport, counts) in transports {
            for (rcode, count) in rcodes(counts) { sample("coderdns_queries_total", [("transport", transport), ("rcode", rcode)], Double(count)) }
        }
        family("coderdns_queries_by_type_total", "counter", "Replies sent, by transport and question type (none: no readable question).")
        for (transport, counts) in transports {
            for category in QueryCounters.TypeCategory.allCases {
                sample(
                    "coderdns_queries_by_type_total", [("transport", transport), ("type", category.name)], Double(counts.byType[category.rawValue]))
            }
        }
        family("coderdns_truncated_replies_total", "counter", "UDP replies sent with TC=1 (the client retries over TCP).")
        sample("coderdns_truncated_replies_total", [], Double(report.udp.truncated + report.tcp.truncated))
        family("coderdns_dropped_requests_total", "counter", "Requests dropped without a reply (shorter than a header, or themselves responses).")
        for (transport, counts) in transports { sample("coderdns_dropped_requests_total", [("transport", transport)], Double(counts.dropped)) }

        family(
            "coderdns_answer_duration_seconds", "histogram",
            "Time from reading a batch of queries (a recvmmsg, or a TCP read) to handing their replies to the kernel, counted per query.")
        var cumulative = 0
        for (index, bound) in LatencyHistogram.bounds.enumerated() {
            cumulative += report.latency.buckets[index]
            sample("coderdns_answer_duration_seconds_bucket", [("le", String(bound))], Double(cumulative))
        }
        sample("coderdns_answer_duration_seconds_bucket", [("le", "+Inf")], Double(report.latency.count))
        sample("coderdns_answer_duration_seconds_sum", [], report.latency.sum)
        sample("coderdns_answer_duration_seconds_count", [], Double(report.latency.count))
        family("coderdns_udp_send_failures_total", "counter", "UDP replies the kernel refused to send (each skipped, the rest of its batch sent).")
        sample("coderdns_udp_send_failures_total", [], Double(report.udpSendFailures))
        family("coderdns_tcp_connections_open", "gauge", "TCP connections open now.")
        sample("coderdns_tcp_connections_open", [], Double(report.tcpOpen))
        family("coderdns_tcp_connections_accepted_total", "counter", "TCP connections accepted.")
        sample("coderdns_tcp_connections_accepted_total", [], Double(report.tcpAccepted))
        family("coderdns_tcp_connections_evicted_total", "counter", "TCP connections closed to make room (at the cap, or out of descriptors).")
        sample("coderdns_tcp_connections_evicted_total", [], Double(report.tcpEvicted))
        family("coderdns_tcp_accept_failures_total", "counter", "accept() failures (out of descriptors or memory).")
        sample("coderdns_tcp_accept_failures_total", [], Double(report.tcpAcceptFailures))

        family("coderdns_start_time_seconds", "gauge", "When the server started, Unix seconds.")
        sample("coderdns_start_time_seconds", [], report.startedAt)
        family("coderdns_snapshot_serial", "gauge", "The SOA serial: snapshots built by this process.")
        sample("coderdns_snapshot_serial", [], Double(report.serial))
        family("coderdns_snapshot_has_data", "gauge", "1 when workspace data is served, 0 while in-zone queries get SERVFAIL.")
        sample("coderdns_snapshot_has_data", [], report.hasData ? 1 : 0)
        family("coderdns_snapshot_names", "gauge", "Host names served, the sentinel included.")
        sample("coderdns_snapshot_names", [], Double(report.names))
        family("coderdns_snapshot_agents", "gauge", "Agent addresses served.")
        sample("coderdns_snapshot_agents", [], Double(report.agents))
        family("coderdns_snapshot_workspace_names", "gauge", "Distinct workspace names served.")
        sample("coderdns_snapshot_workspace_names", [], Double(report.workspaceNames))
        family("coderdns_snapshot_skipped_agents", "gauge", "Agents of the state whose names cannot be served.")
        sample("coderdns_snapshot_skipped_agents", [], Double(report.skippedAgents))
        family(
            "coderdns_snapshot_layered", "gauge",
            "1 while the snapshot served is diffs layered over the last whole build (folded after 1 s without messages).")
        sample("coderdns_snapshot_layered", [], report.layered ? 1 : 0)
        if let age = report.dataAge {
            family("coderdns_data_age_seconds", "gauge", "Seconds since the data source last confirmed the data served (0 while connected).")
            sample("coderdns_data_age_seconds", [], age)
        }

        if let state = report.sourceState {
            let labels = [("kind", report.sourceKind.rawValue)]
            family("coderdns_source_connected", "gauge", "1 while the workspace update stream is connected.")
            sample("coderdns_source_connected", labels, state.connected ? 1 : 0)
            family("coderdns_source_state_since_seconds", "gauge", "When the stream last connected or disconnected, Unix seconds.")
            sample("coderdns_source_state_since_seconds", labels, state.since)
            family("coderdns_source_stale", "gauge", "1 when --max-stale withdrew the last known state.")
            sample("coderdns_source_stale", labels, state.stale ? 1 : 0)
            family("coderdns_source_connections_total", "counter", "Connections made to the data source (reconnects included).")
            sample("coderdns_source_connections_total", labels, Double(report.connections))
            family("coderdns_source_messages_applied_total", "counter", "Workspace updates applied.")
            sample("coderdns_source_messages_applied_total", labels, Double(report.messagesApplied))
            family(
                "coderdns_source_layered_snapshots_total", "counter",
                "Diffs published as a layer over the last whole build, not rebuilt whole.")
            sample("coderdns_source_layered_snapshots_total", labels, Double(report.layeredSnapshots))
            family(
                "coderdns_source_messages_rejected_total", "counter",
                "Workspace updates rejected whole (bytes that do not decode, or a length over the cap).")
            sample("coderdns_source_messages_rejected_total", labels, Double(report.messagesRejected))
            family(
                "coderdns_source_record_problems_total", "counter",
                "Records skipped in applied updates (bad ids, unknown workspaces, names that cannot be served).")
            sample("coderdns_source_record_problems_total", labels, Double(report.recordProblems))
        }
        if report.cachePath != nil {
            family("coderdns_cache_writes_total", "counter", "State cache writes.")
            sample("coderdns_cache_writes_total", [], Double(report.cacheWrites))
            family("coderdns_cache_write_failures_total", "counter", "State cache writes that failed.")
            sample("coderdns_cache_write_failures_total", [], Double(report.cacheFailures))
            if let written = report.cacheWrittenAt {
                family("coderdns_cache_age_seconds", "gauge", "Seconds since the state cache was last written.")
                sample("coderdns_cache_age_seconds", [], max(0, report.now - written))
            }
        }
        return text
    }

    /// Label values: backslash, double quote and line feed escaped.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(character)
            }
        }
        return out
    }

    /// Integers without a fraction, others in full (a latency sum of 0.000123 s must not print 0).
    static func format(_ value: Double) -> String {
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
