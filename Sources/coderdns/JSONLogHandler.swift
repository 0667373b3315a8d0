import Glibc
import Logging
import Observability

/// `--log-format json`: one JSON object a line on standard error, for journald collectors and
/// log shippers: `{"time":"2026-12-05T10:00:00.123Z","level":"info","message":"...",
/// "label":"coderdns", ...metadata}`. Metadata values are strings; keys of the message's own
/// fields (`time`, `level`, `message`, `label`) win over metadata of the same name.
struct JSONLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    init(label: String) {
        self.label = label
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        var line = "{\"time\":\(Self.quoted(Self.timestamp())),\"level\":\(Self.quoted(event.level.rawValue))"
        line += ",\"message\":\(Self.quoted("\(event.message)")),\"label\":\(Self.quoted(label))"
        for key in fields.keys.sorted() where !["time", "level", "message", "label"].contains(key) {
            line += ",\(Self.quoted(key)):\(Self.quoted("\(fields[key]!)"))"
        }
        line += "}\n"
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { write(2, $0.baseAddress, $0.count) }
    }

    static func quoted(_ text: String) -> String { StatusText.quoted(text) }

    /// UTC, milliseconds: `2026-12-05T10:00:00.123Z`.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let milliseconds = Int(now.tv_nsec / 1_000_000)
        let fraction = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(fraction)Z"
    }
}
