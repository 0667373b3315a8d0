import ControlPlane
import EventIO
import NIOCore
import NIOHTTP1
import NIOPosix
import RecordStore
import Responder
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// The metrics endpoint (`--metrics-listen`, HTTP `GET /metrics`) and the control socket
/// (`--control-socket`, what `coderdns status`, `names` and `reload` talk to), on one SwiftNIO
/// event-loop thread of their own: nothing here runs on, or waits for, the packet path.
public final class ObservabilityServer: Sendable {
    /// What the server is asked about, gathered when asked.
    public struct Sources: Sendable {
        public var report: @Sendable () -> StatusReport
        public var snapshot: @Sendable () -> ZoneSnapshot
        /// Does what SIGHUP does; says what happened, and whether it worked.
        public var reload: @Sendable () -> (succeeded: Bool, message: String)
        /// Told the one-line summary when it changes (checked every 10 s): systemd's STATUS=.
        public var summaryChanged: @Sendable (String) -> Void

        public init(
            report: @escaping @Sendable () -> StatusReport, snapshot: @escaping @Sendable () -> ZoneSnapshot,
            reload: @escaping @Sendable () -> (succeeded: Bool, message: String), summaryChanged: @escaping @Sendable (String) -> Void = { _ in }
        ) {
            self.report = report
            self.snapshot = snapshot
            self.reload = reload
            self.summaryChanged = summaryChanged
        }
    }

    let sources: Sources
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    /// Samples of the reply counts every 10 s, for "the last minute".
    let samples = Mutex<[(time: Double, counts: QueryCounters)]>([])
    private let lastSummary = Mutex<String?>(nil)
    private let channels = Mutex<[any Channel]>([])
    private let socketPath = Mutex<String?>(nil)

    public init(sources: Sources) {
        self.sources = sources
        let sampled = group.next().scheduleRepeatedTask(initialDelay: .zero, delay: .seconds(10)) { [self] _ in
            let report = sources.report()
            samples.withLock { samples in
                samples.append((report.now, report.udp + report.tcp))
                samples.removeAll { $0.time < report.now - 75 }
            }
            let summary = report.summary
            let changed = lastSummary.withLock { last in
                defer { last = summary }
                return last != nil && last != summary
            }
            if changed { sources.summaryChanged(summary) }
        }
        _ = sampled
    }

    /// The report now, with the last minute's replies.
    public func report() -> StatusReport {
        var report = sources.report()
        let current = report.udp + report.tcp
        let now = report.now
        report.lastMinute = samples.withLock { samples in
            samples.last { $0.time <= now - 55 }.map { current - $0.counts }
        }
        return report
    }

    /// Serves `GET /metrics` on `host:port`.
    public func serveMetrics(host: String, port: Int) throws {
        let channel = try ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(server: self))
                }
            }
            .bind(host: host, port: port).wait()
        channels.withLock { $0.append(channel) }
    }

    /// Answers the control socket at `path`: created 0600 in a directory made 0700 if
    /// missing. A socket file left by a server that is gone is replaced; one that answers
    /// belongs to another running server and is an error.
    public func serveControl(at path: String) throws(ControlSocketError) {
        if let slash = path.lastIndex(of: "/"), slash != path.startIndex {
            let directory = String(path[..<slash])
            if mkdir(directory, 0o700) != 0 && errno != EEXIST {
                throw ControlSocketError("cannot create \(directory): \(String(cString: strerror(errno)))")
            }
        }
        if ControlClient.isAnswering(path) { throw ControlSocketError("\(path) is in use by another running coderdns") }
        unlink(path)
        // Made 0600 from the start: no window in which others may connect.
        let previous = umask(0o177)
        defer { umask(previous) }
        do {
            let channel = try ServerBootstrap(group: group)
                .childChannelInitializer { [self] channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ControlHandler(server: self))
                    }
                }
                .bind(unixDomainSocketPath: path).wait()
            channels.withLock { $0.append(channel) }
            socketPath.withLock { $0 = path }
        } catch {
            throw ControlSocketError("cannot listen on \(path): \(error)")
        }
    }

    public struct ControlSocketError: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Closes the listeners and removes the control socket's file.
    public func shutdown() {
        for channel in channels.withLock({ $0 }) { try? channel.close().wait() }
        if let path = socketPath.withLock({ $0 }) { unlink(path) }
        try? group.syncShutdownGracefully()
    }

    /// One control request's answer: the exit status the client should end with, and the text.
    func answer(_ request: String) -> (status: Int32, text: String) {
        let words = request.split(separator: " ", maxSplits: 1).map(String.init)
        switch words.first ?? "" {
        case "status":
            let report = report()
            return (report.health.rawValue, StatusText.render(report))
        case "status-json":
            let report = report()
            return (report.health.rawValue, StatusText.json(report))
        case "names":
            let filter = words.count > 1 ? words[1].lowercased() : ""
            var text = ""
            for host in sources.snapshot().hostNames() where filter.isEmpty || host.name.contains(filter) {
                text += "\(host.name)\t\(host.addresses.map(IPv6Text.format).joined(separator: " "))\n"
            }
            return (0, text)
        case "reload":
            let outcome = sources.reload()
            return (outcome.succeeded ? 0 : 1, outcome.message + "\n")
        default:
            return (64, "unknown request \"\(request)\": status, status-json, names [FILTER] or reload\n")
        }
    }
}

extension QueryCounters {
    static func - (lhs: QueryCounters, rhs: QueryCounters) -> QueryCounters {
        var difference = lhs
        difference.noError -= rhs.noError
        difference.nameError -= rhs.nameError
        difference.serverFailure -= rhs.serverFailure
        difference.refused -= rhs.refused
        difference.formatError -= rhs.formatError
        difference.notImplemented -= rhs.notImplemented
        difference.badVersion -= rhs.badVersion
        difference.truncated -= rhs.truncated
        difference.dropped -= rhs.dropped
        for index in difference.byType.indices { difference.byType[index] -= rhs.byType[index] }
        return difference
    }
}

/// `GET /metrics` → the exposition; anything else → 404.
final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let server: ObservabilityServer
    var path = ""

    init(server: ObservabilityServer) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = head.method == .GET ? String(head.uri.split(separator: "?").first ?? "") : ""
        case .body:
            break
        case .end:
            let found = path == "/metrics"
            let body = found ? MetricsExposition.render(server.report()) : "not found: the metrics are at /metrics\n"
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: found ? MetricsExposition.contentType : "text/plain; charset=utf-8")
            headers.add(name: "Content-Length", value: "\(body.utf8.count)")
            headers.add(name: "Connection", value: "close")
            context.write(
                wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: found ? .ok : .notFound, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}

/// One request line in, `<status>\n<text>` out, then close.
final class ControlHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A request is a word and a filter: anything longer is not one.
    static let maximumRequest = 1024
    let server: ObservabilityServer
    var buffer: [UInt8] = []

    init(server: ObservabilityServer) {
        self.server = server
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffer += bytes.readBytes(length: bytes.readableBytes) ?? []
        guard let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.count > Self.maximumRequest { context.close(promise: nil) }
            return
        }
        let request = String(decoding: buffer[..<newline], as: UTF8.self)
        let server = self.server
        let channel = context.channel
        // A reload reads and builds a whole state file: not on the event loop.
        let started = WorkerThread.detached(for: "a control-socket request") {
            let (status, text) = server.answer(request)
            channel.writeAndFlush(channel.allocator.buffer(string: "\(status)\n\(text)")).whenComplete { _ in channel.close(promise: nil) }
        }
        if !started { context.close(promise: nil) }
    }
}

/// RFC 5952 text of an address.
public enum IPv6Text {
    public static func format(_ address: IPv6Address) -> String {
        var raw = in6_addr()
        withUnsafeMutableBytes(of: &raw) { $0.copyBytes(from: address.bytes) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        inet_ntop(AF_INET6, &raw, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
