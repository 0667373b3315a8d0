import CSocketShim
import Glibc
import Synchronization

/// A UDP socket with a thread of its own that sleeps in a blocking recvmmsg: each wake-up is
/// one receive and one send, with no readiness call (epoll_wait) and no event loop between
/// them. A wake-up takes every datagram that arrived while the last batch was answered, so
/// under load the batches grow by themselves, without a timer that would delay replies.
public final class UDPReaderThread: @unchecked Sendable {
    public let address: SocketAddress
    private let fd: Int32
    private let batch: DatagramBatch
    private let stopping = Atomic<Bool>(false)
    private var thread: WorkerThread?

    /// Binds the socket; the thread starts with ``start()``.
    /// - Parameters:
    ///   - receiveSize: the longest datagram read whole; a longer one is cut to this length.
    ///   - replySize: the longest reply the handler may write.
    public init(
        address: SocketAddress, handler: DatagramHandler, batchSize: Int = 32, receiveSize: Int = 65535, replySize: Int = 65535,
        reusePort: Bool = false
    ) throws(EventIOError) {
        self.address = address
        batch = try DatagramBatch(handler: handler, batchSize: batchSize, receiveSize: receiveSize, replySize: replySize)
        fd = try Socket.bind(address, kind: .udp, reusePort: reusePort)
        guard cdns_set_blocking(fd) == 0 else {
            let error = Errno.current
            Socket.close(fd)
            throw .system(call: "fcntl", context: "for \(address)", errno: error)
        }
    }

    deinit {
        stop()
        Socket.close(fd)
    }

    /// Replies that could not be sent (the kernel refused them); each was skipped and the rest
    /// of its batch sent.
    public var sendFailures: Int { sendFailureCounter.value.load(ordering: .relaxed) }
    /// The same count, readable from any thread while serving (metrics).
    public var sendFailureCounter: CounterCell { batch.sendFailureCounter }
    /// How long each batch took, read to replies sent.
    public var latency: LatencyHistogram { batch.latency }
    /// The errno of the last reply that could not be sent, 0 while none failed. Read once
    /// stopped.
    public var lastSendError: Int32 { batch.lastSendError }

    /// The port the socket is bound to (the kernel's choice when ``address`` asked for 0).
    public var localPort: UInt16 {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard result == 0 else { return 0 }
        // sin_port and sin6_port sit at the same offset, in network order.
        return withUnsafeBytes(of: storage) { UInt16($0[2]) << 8 | UInt16($0[3]) }
    }

    /// Starts answering on a new thread.
    public func start() throws(EventIOError) {
        precondition(thread == nil, "started twice")
        thread = try WorkerThread(for: "UDP on \(address)") { [self] in run() }
    }

    /// Stops answering and waits for the thread: datagrams not yet read stay unanswered.
    public func stop() {
        guard let thread else { return }
        self.thread = nil
        stopping.store(true, ordering: .releasing)
        // Wakes the blocked receive (Linux wakes readers of an unconnected UDP socket too,
        // though the call reports ENOTCONN), and every later receive returns at once.
        _ = Glibc.shutdown(fd, Int32(SHUT_RD))
        thread.join()
    }

    private func run() {
        while true {
            let received = batch.receiveWaiting(fd)
            if stopping.load(ordering: .acquiring) { return }
            if received > 0 {
                batch.answer(received, on: fd)
            } else if received < 0, Errno.current != EINTR {
                // Nothing a retry at once would change (ENOMEM, say): wait a little.
                usleep(1000)
            }
        }
    }
}
