import ControlPlane
import DRPC
import NIOCore
import NIOWebSocket
import Yamux

/// The upgraded WebSocket: binary messages read as one byte stream into the yamux machine,
/// stream 1's bytes into the DRPC machine, whole `WorkspaceUpdate` messages into the
/// mailbox. Runs on the channel's event loop, so coderd's pings are answered at once whatever
/// the session's thread is doing (building a large snapshot, say).
final class TailnetHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    static let method = "/coder.tailnet.v2.Tailnet/WorkspaceUpdates"

    private var yamux: YamuxSession
    private var drpc: DRPCClientStream
    private var streamID: UInt32 = 0
    private let request: [UInt8]
    private let mailbox: FeedMailbox
    private let place: String
    private var keepalive: Scheduled<Void>?
    private var ended = false

    init(request: [UInt8], mailbox: FeedMailbox, yamux configuration: YamuxConfiguration, maximumMessageSize: Int, place: String) {
        self.request = request
        self.mailbox = mailbox
        self.place = place
        yamux = YamuxSession(configuration: configuration, now: Self.now())
        drpc = DRPCClientStream(maximumMessageSize: maximumMessageSize)
    }

    static func now() -> Double { Double(NIODeadline.now().uptimeNanoseconds) / 1e9 }

    /// Added once the upgrade is done: open stream 1 and make the call, as Go's client does
    /// (Invoke and the request in one write, CloseSend after).
    func handlerAdded(context: ChannelHandlerContext) {
        streamID = yamux.openStream()
        do {
            try yamux.send(drpc.invoke(method: Self.method, request: request), streamID: streamID)
        } catch {
            end(context, FeedFailure("yamux: cannot send the request: \(error)"))
            return
        }
        flush(context)
        scheduleKeepalive(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        keepalive?.cancel()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .continuation:
            var payload = frame.unmaskedData
            receive(context, payload.readBytes(length: payload.readableBytes) ?? [])
        case .ping:
            // RFC 6455 5.5.3: a pong carries the ping's data.
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            break
        case .text:
            end(context, FeedFailure("WebSocket protocol error from \(place): a text message on the binary tailnet stream"))
        case .connectionClose:
            var data = frame.unmaskedData
            let code = data.readInteger(as: UInt16.self).map { " (code \($0))" } ?? ""
            end(context, FeedFailure("coderd at \(place) closed the WebSocket\(code)", severity: .routine))
        default:
            end(context, FeedFailure("WebSocket protocol error from \(place): unknown opcode \(frame.opcode)"))
        }
    }

    private func receive(_ context: ChannelHandlerContext, _ bytes: [UInt8]) {
        do {
            for event in try yamux.receive(bytes, now: Self.now()) {
                switch event {
                case .data(let id, let data) where id == streamID:
                    for call in try drpc.receive(data) { handle(context, call) }
                case .streamFinished(let id) where id == streamID:
                    end(context, FeedFailure("coderd at \(place) finished the update stream (yamux FIN)", severity: .routine))
                case .streamReset(let id) where id == streamID:
                    end(context, FeedFailure("coderd at \(place) reset the update stream (yamux RST)"))
                case .goAway(let code):
                    let reason = code == 0 ? "normal" : code == 1 ? "protocol error" : code == 2 ? "internal error" : "code \(code)"
                    end(
                        context,
                        FeedFailure("coderd at \(place) is closing the yamux session (GoAway: \(reason))", severity: code == 0 ? .routine : .problem))
                default:
                    break
                }
                if ended { return }
            }
        } catch let error as YamuxError {
            end(context, FeedFailure("yamux protocol error from \(place): \(error)"))
            return
        } catch {
            end(context, FeedFailure("DRPC protocol error from \(place): \(error)"))
            return
        }
        flush(context)
    }

    private func handle(_ context: ChannelHandlerContext, _ event: DRPCEvent) {
        switch event {
        case .message(let message):
            mailbox.deliver(message)
        case .error(let code, let message):
            let hint = code == 12 ? " (the deployment does not serve workspace updates on this connection)" : ""
            end(context, FeedFailure("coderd at \(place) ended the update stream with a DRPC error, code \(code): \(message)\(hint)"))
        case .closed, .closeSend:
            end(context, FeedFailure("coderd at \(place) closed the update stream", severity: .routine))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(context, FeedFailure("the connection to \(place) closed", severity: .routine))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOWebSocketError {
            end(context, FeedFailure("WebSocket protocol error from \(place): \(error)"))
        } else {
            end(context, CoderFailure.transport(error, place: place))
        }
    }

    private func scheduleKeepalive(_ context: ChannelHandlerContext) {
        let deadline = yamux.nextDeadline
        guard deadline.isFinite, !ended else { return }
        let delay = TimeAmount.nanoseconds(Int64(max(0, deadline - Self.now()) * 1e9) + 1_000_000)
        keepalive = context.eventLoop.assumeIsolated().scheduleTask(in: delay) { [self] in
            do {
                try yamux.tick(now: Self.now())
            } catch {
                end(context, FeedFailure("coderd at \(place) stopped answering yamux pings (\(error)); redialing"))
                return
            }
            flush(context)
            scheduleKeepalive(context)
        }
    }

    private func flush(_ context: ChannelHandlerContext) {
        let output = yamux.takeOutput()
        guard !output.isEmpty, !ended else { return }
        let frame = WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: context.channel.allocator.buffer(bytes: output))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    /// Reports the end once and closes the connection: the session redials.
    private func end(_ context: ChannelHandlerContext, _ failure: FeedFailure) {
        guard !ended else { return }
        ended = true
        keepalive?.cancel()
        mailbox.end(failure)
        context.close(promise: nil)
    }
}
