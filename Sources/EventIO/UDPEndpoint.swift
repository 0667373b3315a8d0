import CLibevent
import CSocketShim
import Glibc

/// Answers datagrams for a ``UDPEndpoint``: one call per batch, then one per datagram.
public protocol DatagramHandler: AnyObject {
    /// Called before each batch: the moment to take the current record snapshot once.
    func beginBatch()
    /// Writes the reply to `request` into `reply` and returns its length (0: no reply).
    func handle(_ request: UnsafeRawBufferPointer, reply: UnsafeMutableRawBufferPointer) -> Int
    func endBatch()
}

/// A UDP socket served in batches: one persistent read event; each wake-up receives up to
/// `batchSize` datagrams with one recvmmsg and sends every reply with one sendmmsg.
public final class UDPEndpoint {
    public let address: SocketAddress
    private let fd: Int32
    private let batch: OpaquePointer
    private let replySize: Int
    private let handler: DatagramHandler
    private var readEvent: EventHandle?

    /// How many batches one wake-up may take before letting other events run.
    private static let batchesPerWakeup = 8

    /// - Parameters:
    ///   - receiveSize: the longest datagram read whole; a longer one is cut to this length.
    ///   - replySize: the longest reply the handler may write.
    public init(
        loop: EventLoop, address: SocketAddress, handler: DatagramHandler, batchSize: Int = 32,
        receiveSize: Int = 65535, replySize: Int = 65535, reusePort: Bool = false
    ) throws(EventIOError) {
        self.address = address
        self.handler = handler
        self.replySize = replySize
        fd = try Socket.bind(address, kind: .udp, reusePort: reusePort)
        guard let batch = cdns_batch_create(Int32(batchSize), receiveSize, replySize) else {
            Socket.close(fd)
            throw .system(call: "malloc", context: "UDP batch buffers", errno: ENOMEM)
        }
        self.batch = batch
        readEvent = try EventHandle(base: loop.base, fd: fd, events: Int16(EV_READ | EV_PERSIST)) { [unowned self] _ in
            self.readable()
        }
        readEvent?.add()
    }

    deinit {
        readEvent?.free()
        cdns_batch_destroy(batch)
        Socket.close(fd)
    }

    private func readable() {
        for _ in 0..<Self.batchesPerWakeup {
            let received = Int(cdns_batch_receive(batch, fd))
            guard received > 0 else { return }
            handler.beginBatch()
            for index in 0..<received {
                var length = 0
                let data = cdns_batch_datagram(batch, Int32(index), &length)!
                let reply = UnsafeMutableRawBufferPointer(start: cdns_batch_reply_buffer(batch, Int32(index)), count: replySize)
                let replyLength = handler.handle(UnsafeRawBufferPointer(start: data, count: length), reply: reply)
                cdns_batch_set_reply(batch, Int32(index), replyLength)
            }
            handler.endBatch()
            _ = cdns_batch_send(batch, fd, Int32(received))
            if received < cdns_batch_capacity(batch) { return }
        }
    }
}
