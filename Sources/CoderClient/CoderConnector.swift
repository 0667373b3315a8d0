import ControlPlane
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// Opens connections to one deployment with SwiftNIO: TCP, TLS (NIOSSL, the system's trust
/// store plus `--coder-ca-file`), HTTP/1.1 (NIOHTTP1) and the WebSocket upgrade
/// (NIOWebSocket). Every call blocks the calling thread (the session's, never an event loop)
/// until it has an answer, a failure, or its deadline.
final class CoderConnector: Sendable {
    let url: CoderURL
    private let token: SessionToken
    private let group: MultiThreadedEventLoopGroup
    private let tls: NIOSSLContext?
    /// Channels being opened, closed by ``cancel()`` so that a stopping server does not wait
    /// out a deadline.
    private let pending = Mutex<(cancelled: Bool, channels: [ObjectIdentifier: any Channel])>((false, [:]))

    static let connectTimeout = TimeAmount.seconds(10)
    /// For a whole request or upgrade, connection included.
    static let requestDeadline = TimeAmount.seconds(20)
    /// The largest REST body read (`/users/me` is a few hundred bytes; an error page a few KiB).
    static let maximumBody = 1 << 20
    /// The largest WebSocket frame accepted. coderd writes one message per yamux write: a
    /// 12-byte header, or a body of at most one stream window (256 KiB); 4 MiB leaves room
    /// for a deployment that raises the window.
    static let maximumFrame = 4 << 20

    init(url: CoderURL, token: SessionToken, caFile: String?) throws {
        self.url = url
        self.token = token
        if url.isSecure {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.trustRoots = .default
            if let caFile {
                configuration.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
            }
            tls = try NIOSSLContext(configuration: configuration)
        } else {
            tls = nil
        }
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    deinit {
        try? group.syncShutdownGracefully()
    }

    func cancel() {
        let channels = pending.withLock { state in
            state.cancelled = true
            return Array(state.channels.values)
        }
        for channel in channels { channel.close(promise: nil) }
    }

    var isCancelled: Bool { pending.withLock { $0.cancelled } }

    /// A GET's status and body.
    func get(_ path: String) throws(FeedFailure) -> (status: Int, body: [UInt8]) {
        let head = requestHead(path)
        let (channel, promise) = try connect { channel, promise in
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.pipeline.syncOperations.addHandler(HTTPReplyHandler(head: head, reply: promise))
        }
        defer { forget(channel) }
        let reply = try wait(promise.futureResult)
        channel.close(promise: nil)
        return (reply.status, reply.body)
    }

    /// Upgrades `GET /api/v2/tailnet?version=2.3` to a WebSocket and hands it to `handler`
    /// (made on the event loop). A status other than 101 comes back as a failure with
    /// coderd's message.
    func openTailnet(makeHandler: @escaping @Sendable () -> any ChannelHandler) throws(FeedFailure) -> any Channel {
        let path = "/api/v2/tailnet?version=2.3"
        let head = requestHead(path)
        let (channel, promise) = try connect { channel, promise in
            let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: Self.maximumFrame, automaticErrorHandling: true) { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(makeHandler())
                    promise.succeed(HTTPReply(status: 101, body: []))
                }
            }
            try channel.pipeline.syncOperations.addHTTPClientHandlers(
                leftOverBytesStrategy: .forwardBytes,
                withClientUpgrade: (
                    upgraders: [upgrader],
                    completionHandler: { context in
                        // The request handler reads HTTP; from here on frames flow.
                        context.pipeline.removeHandler(name: HTTPReplyHandler.name, promise: nil)
                    }
                ))
            try channel.pipeline.syncOperations.addHandler(HTTPReplyHandler(head: head, reply: promise), name: HTTPReplyHandler.name)
        }
        defer { forget(channel) }
        let reply: HTTPReply
        do {
            reply = try wait(promise.futureResult)
        } catch {
            channel.close(promise: nil)
            throw error
        }
        guard reply.status == 101 else {
            channel.close(promise: nil)
            throw CoderFailure.status(reply.status, body: reply.body, request: path, url: url)
        }
        return channel
    }

    private func requestHead(_ path: String) -> HTTPRequestHead {
        var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: url.pathPrefix + path)
        head.headers.add(name: "Host", value: url.authority)
        head.headers.add(name: "User-Agent", value: "coderdns")
        head.headers.add(name: "Accept", value: "application/json")
        // The token goes in coderd's own header, never in the URL (URLs get logged).
        head.headers.add(name: "Coder-Session-Token", value: token.value)
        return head
    }

    private static func addTLS(_ context: NIOSSLContext?, url: CoderURL, to channel: any Channel) throws {
        guard let context else { return }
        // No SNI for an address; NIOSSL then checks the certificate against the address.
        let handler = try NIOSSLClientHandler(context: context, serverHostname: url.hostIsAddress ? nil : url.host)
        try channel.pipeline.syncOperations.addHandler(handler)
    }

    /// A connected channel (TLS first when the URL is https, then what `pipeline` adds) and
    /// the promise its reply completes.
    private func connect(
        pipeline: @escaping @Sendable (any Channel, EventLoopPromise<HTTPReply>) throws -> Void
    ) throws(FeedFailure) -> (any Channel, EventLoopPromise<HTTPReply>) {
        let loop = group.next()
        let promise = loop.makePromise(of: HTTPReply.self)
        let tls = self.tls
        let url = self.url
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(Self.connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Self.addTLS(tls, url: url, to: channel)
                    try pipeline(channel, promise)
                }
            }
        return (try open(bootstrap, promise: promise), promise)
    }

    private func open(_ bootstrap: ClientBootstrap, promise: EventLoopPromise<HTTPReply>) throws(FeedFailure) -> any Channel {
        // Every promise is completed on every path (NIO checks that none is dropped).
        guard !isCancelled else {
            promise.fail(ChannelError.ioOnClosedChannel)
            throw FeedFailure("stopping", severity: .routine)
        }
        let channel: any Channel
        do {
            channel = try bootstrap.connect(host: url.host, port: url.port).wait()
        } catch {
            promise.fail(error)
            throw CoderFailure.transport(error, place: url.place)
        }
        let cancelled = pending.withLock { state in
            state.channels[ObjectIdentifier(channel)] = channel
            return state.cancelled
        }
        if cancelled { channel.close(promise: nil) }
        // Whatever happens, the reply comes by the deadline; a closed channel ends it at once.
        let deadline = channel.eventLoop.scheduleTask(in: Self.requestDeadline) {
            promise.fail(FeedFailure("coderd at \(self.url) did not answer within \(Self.requestDeadline.nanoseconds / 1_000_000_000) s"))
        }
        promise.futureResult.whenComplete { _ in deadline.cancel() }
        channel.closeFuture.whenComplete { _ in promise.fail(ChannelError.eof) }
        return channel
    }

    private func forget(_ channel: any Channel) {
        _ = pending.withLock { $0.channels.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    private func wait(_ future: EventLoopFuture<HTTPReply>) throws(FeedFailure) -> HTTPReply {
        do {
            return try future.wait()
        } catch {
            throw CoderFailure.transport(error, place: url.place)
        }
    }
}

struct HTTPReply: Sendable {
    var status: Int
    var body: [UInt8]
}

/// Sends one request when the channel is active and collects the response (or, for an
/// upgrade that was refused, the response that refused it).
final class HTTPReplyHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    static let name = "coderdns.http-reply"

    private let head: HTTPRequestHead
    private let reply: EventLoopPromise<HTTPReply>
    private var status = 0
    private var body: [UInt8] = []

    init(head: HTTPRequestHead, reply: EventLoopPromise<HTTPReply>) {
        self.head = head
        self.reply = reply
    }

    func channelActive(context: ChannelHandlerContext) {
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            status = Int(response.status.code)
        case .body(var buffer):
            if body.count < CoderConnector.maximumBody, let bytes = buffer.readBytes(length: buffer.readableBytes) {
                body += bytes.prefix(CoderConnector.maximumBody - body.count)
            }
        case .end:
            reply.succeed(HTTPReply(status: status, body: body))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        reply.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        reply.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}
