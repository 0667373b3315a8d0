import CLibevent
import CSocketShim
import Glibc
import Synchronization

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
    /// Fires ``UDPCoalescing/delay`` after a drain while the socket is busy.
    private var timer: EventHandle?
    private var coalescing: UDPCoalescing
    /// Datagrams read by every socket of the process, so that coalescing follows the load the
    /// whole process sees, not this socket's share of it (SO_REUSEPORT's hash splits a few
    /// busy clients unevenly between sockets).
    private let processLoad: DatagramTally
    private var processLoadSeen = 0

    /// How many batches one wake-up may take before letting other events run.
    private static let batchesPerWakeup = 8

    /// - Parameters:
    ///   - receiveSize: the longest datagram read whole; a longer one is cut to this length.
    ///   - replySize: the longest reply the handler may write.
    ///   - coalescing: when a busy socket is read on a timer instead (``UDPCoalescing``).
    public init(
        loop: EventLoop, address: SocketAddress, handler: DatagramHandler, batchSize: Int = 32,
        receiveSize: Int = 65535, replySize: Int = 65535, reusePort: Bool = false, coalescing: UDPCoalescing = .disabled,
        processLoad: DatagramTally = DatagramTally()
    ) throws(EventIOError) {
        self.address = address
        self.processLoad = processLoad
        self.handler = handler
        self.replySize = replySize
        self.coalescing = coalescing
        fd = try Socket.bind(address, kind: .udp, reusePort: reusePort)
        guard let batch = cdns_batch_create(Int32(batchSize), receiveSize, replySize) else {
            Socket.close(fd)
            throw .system(call: "malloc", context: "UDP batch buffers", errno: ENOMEM)
        }
        self.batch = batch
        readEvent = try EventHandle(base: loop.base, fd: fd, events: Int16(EV_READ | EV_PERSIST), priority: .datagrams) {
            [unowned self] _ in
            self.drain()
        }
        if coalescing.isEnabled {
            timer = try EventHandle(base: loop.base, fd: -1, events: 0, priority: .datagrams) { [unowned self] _ in self.drain() }
        }
        readEvent?.add()
    }

    deinit {
        timer?.free()
        readEvent?.free()
        cdns_batch_destroy(batch)
        Socket.close(fd)
    }

    /// Replies that could not be sent (the kernel refused them: a full socket buffer, a peer
    /// address no datagram can go to); each was skipped and the rest of its batch sent.
    public var sendFailures: Int { sendFailureCounter.value.load(ordering: .relaxed) }
    /// The same count, readable from any thread while serving (metrics).
    public let sendFailureCounter = CounterCell()
    /// How long each batch took, read to replies sent.
    public let latency = LatencyHistogram()
    /// The errno of the last reply that could not be sent, 0 while none failed.
    public private(set) var lastSendError: Int32 = 0

    /// How many times this socket switched between readiness and timer reads.
    public var coalescingSwitches: Int { coalescing.switches }
    /// The same count, readable from any thread while serving (metrics).
    public let coalescingSwitchCounter = CounterCell()

    /// Reads and answers what has arrived, then waits in the way ``coalescing`` says.
    private func drain() {
        let count = receiveAndAnswer()
        guard coalescing.isEnabled else { return }
        // What the whole process read since this socket last looked, this drain included.
        let total = processLoad.add(count)
        let processCount = total - processLoadSeen
        processLoadSeen = total
        let before = coalescing.mode
        let mode = coalescing.drained(processCount, at: EventLoop.monotonicNow())
        if mode != before { coalescingSwitchCounter.value.store(coalescing.switches, ordering: .relaxed) }
        switch (before, mode) {
        case (.onReadiness, .onTimer):
            readEvent?.remove()
            timer?.add(timeout: coalescing.delay)
        case (.onTimer, .onTimer):
            timer?.add(timeout: coalescing.delay)
        case (.onTimer, .onReadiness):
            readEvent?.add()
        case (.onReadiness, .onReadiness):
            break
        }
    }

    /// Up to ``batchesPerWakeup`` batches, stopping at the first that is not full; returns
    /// the number of datagrams read.
    private func receiveAndAnswer() -> Int {
        var total = 0
        for _ in 0..<Self.batchesPerWakeup {
            let received = Int(cdns_batch_receive(batch, fd))
            guard received > 0 else { return total }
            let started = EventLoop.monotonicNow()
            total += received
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
            if received < cdns_batch_capacity(batch) { return total }
        }
        return total
    }
}

/// One count that one thread writes (relaxed load and store: plain moves) and any thread reads.
public final class CounterCell: Sendable {
    public let value = Atomic<Int>(0)
    public init() {}
}

/// Datagrams read by all of a process's UDP sockets: one atomic add per wake-up (not per
/// datagram), shared by the worker threads.
public final class DatagramTally: Sendable {
    private let total = Atomic<Int>(0)
    public init() {}

    /// Adds `count` and returns the new total.
    func add(_ count: Int) -> Int {
        total.add(count, ordering: .relaxed).newValue
    }
}
