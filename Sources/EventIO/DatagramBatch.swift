import CSocketShim
import Glibc
import Synchronization

/// Answers datagrams for a ``UDPReaderThread``: one call per batch, then one per datagram.
public protocol DatagramHandler: AnyObject {
    /// Called before each batch: the moment to take the current record snapshot once.
    func beginBatch()
    /// Writes the reply to `request` into `reply` and returns its length (0: no reply).
    func handle(_ request: UnsafeRawBufferPointer, reply: UnsafeMutableRawBufferPointer) -> Int
    func endBatch()
}

/// One socket's recvmmsg/sendmmsg buffers and the handler that answers what they bring: the
/// work of one wake-up of a ``UDPReaderThread``.
final class DatagramBatch {
    private let batch: OpaquePointer
    private let replySize: Int
    private let handler: DatagramHandler
    /// How long each batch took, read to replies sent.
    let latency = LatencyHistogram()
    /// Replies the kernel refused to send, readable from any thread.
    let sendFailureCounter = CounterCell()
    /// The errno of the last reply that could not be sent, 0 while none failed.
    private(set) var lastSendError: Int32 = 0
    /// Datagrams one receive takes at most.
    let capacity: Int

    init(handler: DatagramHandler, batchSize: Int, receiveSize: Int, replySize: Int) throws(EventIOError) {
        guard let batch = cdns_batch_create(Int32(batchSize), receiveSize, replySize) else {
            throw .system(call: "malloc", context: "UDP batch buffers", errno: ENOMEM)
        }
        self.batch = batch
        self.handler = handler
        self.replySize = replySize
        capacity = batchSize
    }

    deinit {
        cdns_batch_destroy(batch)
    }

    /// Waits until a datagram arrives on the blocking socket `fd`, then takes it and what else
    /// is queued: the number of datagrams, or -1 (errno set).
    func receiveWaiting(_ fd: Int32) -> Int {
        Int(cdns_batch_receive_waiting(batch, fd))
    }

    /// Answers the `received` datagrams of the last receive and sends the replies on `fd`.
    func answer(_ received: Int, on fd: Int32) {
        let started = EventLoop.monotonicNow()
        handler.beginBatch()
        var answered = 0
        for index in 0..<received {
            var length = 0
            let data = cdns_batch_datagram(batch, Int32(index), &length)!
            let reply = UnsafeMutableRawBufferPointer(start: cdns_batch_reply_buffer(batch, Int32(index)), count: replySize)
            let replyLength = handler.handle(UnsafeRawBufferPointer(start: data, count: length), reply: reply)
            cdns_batch_set_reply(batch, Int32(index), replyLength)
            if replyLength > 0 { answered += 1 }
        }
        handler.endBatch()
        var error: Int32 = 0
        let failed = Int(cdns_batch_send(batch, fd, Int32(received), &error))
        latency.observe(EventLoop.monotonicNow() - started, count: answered)
        if failed > 0 {
            sendFailureCounter.value.store(sendFailureCounter.value.load(ordering: .relaxed) &+ failed, ordering: .relaxed)
            lastSendError = error
        }
    }
}

/// One count that one thread writes (relaxed load and store: plain moves) and any thread reads.
public final class CounterCell: Sendable {
    public let value = Atomic<Int>(0)
    public init() {}
}
