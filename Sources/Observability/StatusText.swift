import Glibc
import Responder

/// `coderdns status` for a person, and `--json` for scripts.
public enum StatusText {
    public static func render(_ report: StatusReport) -> String {
        var lines: [String] = []
        func row(_ label: String, _ value: String) {
            lines.append("  " + label + String(repeating: " ", count: max(1, 14 - label.count)) + value)
        }
        lines.append("coderdns is running: \(report.summary)")
        row("since", "\(clock(report.startedAt)) (\(duration(report.now - report.startedAt)) ago)")
        row("listening on", report.listen.joined(separator: " "))
        switch report.sourceKind {
        case .coder, .controlPlane:
            let kind = report.sourceKind == .coder ? "coderd" : "control plane"
            if let state = report.sourceState {
                let how = state.connected ? "connected" : "disconnected"
                row("data source", "\(kind) \(report.source): \(how) since \(clock(state.since)) (\(duration(report.now - state.since)) ago)")
            } else {
                row("data source", "\(kind) \(report.source)")
            }
        case .file: row("data source", "file \(report.source)")
        case .none: row("data source", "none")
        }
        if report.hasData {
            var data = "\(report.names) names, \(report.agents) agents, \(report.workspaceNames) workspace names"
            if report.skippedAgents > 0 { data += ", \(report.skippedAgents) agents not served (names that cannot be DNS names)" }
            row("data", data)
            if let age = report.dataAge {
                row("data age", age == 0 ? "confirmed now (connected)" : "\(duration(age)) since the source last confirmed it")
            }
        } else {
            row("data", report.sourceState?.stale == true ? "none: withdrawn after --max-stale (SERVFAIL)" : "none yet: in-zone queries get SERVFAIL")
        }
        row("zone", "<agent>.<workspace>.{me,\(report.owner)}.\(report.suffix)  (SOA serial \(report.serial))")
        if let path = report.cachePath {
            if let written = report.cacheWrittenAt {
                row("cache", "\(path), written \(duration(report.now - written)) ago (\(report.cacheWrites) writes, \(report.cacheFailures) failed)")
            } else {
                row("cache", "\(path): not written yet")
            }
        }
        if let minute = report.lastMinute {
            row("last minute", "\(minute.answered) replies: " + rcodeList(minute))
        } else {
            let total = report.udp + report.tcp
            row("replies", "\(total.answered) since start: " + rcodeList(total))
        }
        if let error = report.sourceState?.lastError { row("last error", error) }
        row("health", report.health == .healthy ? "healthy" : "degraded")
        return lines.joined(separator: "\n") + "\n"
    }

    public static func json(_ report: StatusReport) -> String {
        var fields: [(String, String)] = [
            ("health", quoted(report.health == .healthy ? "healthy" : "degraded")),
            ("summary", quoted(report.summary)),
            ("started_at", number(report.startedAt)),
            ("listen", "[" + report.listen.map(quoted).joined(separator: ",") + "]"),
            ("source_kind", quoted(report.sourceKind.rawValue)),
            ("source", quoted(report.source)),
            ("has_data", report.hasData ? "true" : "false"),
            ("names", "\(report.names)"), ("agents", "\(report.agents)"), ("workspace_names", "\(report.workspaceNames)"),
            ("skipped_agents", "\(report.skippedAgents)"), ("serial", "\(report.serial)"),
            ("owner", quoted(report.owner)), ("suffix", quoted(report.suffix)),
        ]
        if let age = report.dataAge { fields.append(("data_age_seconds", number(age))) }
        if let state = report.sourceState {
            fields.append(("connected", state.connected ? "true" : "false"))
            fields.append(("state_since", number(state.since)))
            fields.append(("stale", state.stale ? "true" : "false"))
            fields.append(("last_error", state.lastError.map(quoted) ?? "null"))
            fields.append(("connections", "\(report.connections)"))
            fields.append(("messages_applied", "\(report.messagesApplied)"))
            fields.append(("messages_rejected", "\(report.messagesRejected)"))
        }
        if let path = report.cachePath {
            fields.append(("cache_path", quoted(path)))
            fields.append(("cache_written_at", report.cacheWrittenAt.map(number) ?? "null"))
        }
        let total = report.udp + report.tcp
        fields.append(("replies", rcodeObject(total)))
        if let minute = report.lastMinute { fields.append(("replies_last_minute", rcodeObject(minute))) }
        return "{" + fields.map { "\(quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}\n"
    }

    static func rcodeList(_ counts: QueryCounters) -> String {
        MetricsExposition.rcodes(counts).compactMap { name, count in count > 0 ? "\(name) \(count)" : nil }.joined(separator: ", ")
    }

    static func rcodeObject(_ counts: QueryCounters) -> String {
        "{" + MetricsExposition.rcodes(counts).map { "\(quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    static func number(_ value: Double) -> String { MetricsExposition.format(value) }

    /// RFC 8259 string: quotes, backslashes and control characters escaped (also the JSON logs').
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case _ where scalar.value < 0x20: out += "\\u00" + (scalar.value < 16 ? "0" : "") + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// `3d4h`, `5m12s`, `40s`, `0.4s`.
    static func duration(_ seconds: Double) -> String {
        if seconds < 10 { return String((max(0, seconds) * 10).rounded() / 10) + "s" }
        var rest = Int(seconds)
        let days = rest / 86400
        rest %= 86400
        let hours = rest / 3600
        rest %= 3600
        let minutes = rest / 60
        let secs = rest % 60
        if days > 0 { return "\(days)d\(hours)h" }
        if hours > 0 { return "\(hours)h\(minutes)m" }
        if minutes > 0 { return "\(minutes)m\(secs)s" }
        return "\(secs)s"
    }

    /// `2026-12-05 10:00:00 UTC`.
    static func clock(_ unix: Double) -> String {
        var seconds = time_t(unix)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) \(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }
}
