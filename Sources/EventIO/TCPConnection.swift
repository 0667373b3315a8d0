import CLibevent
import CSocketShim
import Glibc

/// One accepted TCP connection over a libevent bufferevent: bytes in, bytes out, a timer.
///
/// It knows nothing of DNS; its owner sets the callbacks and keeps it alive until
/// ``onClose`` runs.
public final class TCPConnection {
    private var bufferEvent: OpaquePointer?
    private var timer: EventHandle?
    private var closing = false

    /// Bytes received; they are consumed when the call returns.
    public var onData: (UnsafeRawBufferPointer) -> Void = { _ in }
    /// The timer set with ``scheduleTimer(after:)`` fired.
    public var onTimer: () -> Void = {}
    /// Every byte queued has been handed to the kernel.
    public var onDrained: () -> Void = {}
    /// The connection is gone (peer closed, error, or ``close()``); called once.
    public var onClose: () -> Void = {}

    /// Bytes read from the socket per read callback.
    public static let maximumSingleRead = 2048

    /// Fails when libevent cannot make the idle timer or the bufferevent; `fd` is then still
    /// the caller's to close.
    init(loop: EventLoop, fd: Int32) throws(EventIOError) {
        // The timer first: a connection without one would never be closed for idleness, and
        // until the bufferevent owns `fd` a failure leaves nothing of it behind.
        timer = try EventHandle(base: loop.base, fd: -1, events: 0) { [unowned self] _ in self.onTimer() }
        guard let bufferEvent = bufferevent_socket_new(loop.base, fd, Int32(BEV_OPT_CLOSE_ON_FREE.rawValue)) else {
            throw .libevent(call: "bufferevent_socket_new")
        }
        self.bufferEvent = bufferEvent
        // One read takes at most this much (libevent's default is 16 KiB): a client that
        // pipelines hundreds of queries is answered over several turns of the loop, so the
        // other connections (and a new client's one query) wait for at most a few dozen
        // replies per busy connection, not hundreds. A query is well under 100 bytes.
        bufferevent_set_max_single_read(bufferEvent, Self.maximumSingleRead)
        bufferevent_setcb(bufferEvent, readTrampoline, writeTrampoline, connectionEventTrampoline, retainedPointer(self))
        bufferevent_enable(bufferEvent, Int16(EV_READ | EV_WRITE))
    }

    deinit { release() }

    /// Queues `bytes` for sending.
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard let bufferEvent, !closing else { return }
        bufferevent_write(bufferEvent, bytes.baseAddress, bytes.count)
    }

    /// Bytes queued and not yet handed to the kernel.
    public var pendingOutput: Int {
        guard let bufferEvent else { return 0 }
        return evbuffer_get_length(bufferevent_get_output(bufferEvent))
    }

    /// Stops or resumes reading (back-pressure on a client that reads its replies slowly).
    public func setReading(_ reading: Bool) {
        guard let bufferEvent, !closing else { return }
        if reading {
            bufferevent_enable(bufferEvent, Int16(EV_READ))
        } else {
            bufferevent_disable(bufferEvent, Int16(EV_READ))
        }
    }

    public func scheduleTimer(after seconds: Double) { timer?.add(timeout: seconds) }

    /// Closes now, dropping unsent output.
    public func close() {
        guard bufferEvent != nil else { return }
        release()
        onClose()
    }

    /// At shutdown, with the loop no longer running: hands queued replies to the kernel,
    /// waiting for the socket to take them until `deadline` (monotonic seconds). True when
    /// everything went.
    @discardableResult
    public func flushPendingOutput(until deadline: Double) -> Bool {
        guard let bufferEvent else { return true }
        let output = bufferevent_get_output(bufferEvent)
        let fd = bufferevent_getfd(bufferEvent)
        let length = evbuffer_get_length(output)
        // Sent with send(2) rather than evbuffer_write: the bufferevent may hold its output
        // frozen for a write it meant to do on the loop's next turn, which will not come.
        guard length > 0, let bytes = evbuffer_pullup(output, -1) else { return true }
        var offset = 0
        while offset < length {
            let sent = Glibc.send(fd, bytes + offset, length - offset, Int32(MSG_NOSIGNAL))
            if sent > 0 {
                offset += sent
                continue
            }
            guard sent < 0, errno == EAGAIN || errno == EINTR else { return false }
            let left = deadline - EventLoop.monotonicNow()
            guard left > 0 else { return false }
            var waiting = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&waiting, 1, Int32(min(left, 1) * 1000) + 1)
        }
        evbuffer_drain(output, offset)
        return true
    }

    /// Stops reading and closes once queued output is sent (a peer that half-closed after
    /// its last query still gets every answer).
    public func closeWhenFlushed() {
        guard let bufferEvent else { return }
        closing = true
        bufferevent_disable(bufferEvent, Int16(EV_READ))
        if evbuffer_get_length(bufferevent_get_output(bufferEvent)) == 0 { close() }
    }

    private func release() {
        timer?.free()
        timer = nil
        if let bufferEvent {
            bufferevent_setcb(bufferEvent, nil, nil, nil, nil)
            bufferevent_free(bufferEvent)
        }
        bufferEvent = nil
    }

    func readable() {
        guard let bufferEvent else { return }
        let input = bufferevent_get_input(bufferEvent)
        let length = evbuffer_get_length(input)
        guard length > 0, let bytes = evbuffer_pullup(input, -1) else { return }
        onData(UnsafeRawBufferPointer(start: bytes, count: length))
        // onData may have closed the connection.
        if let input = self.bufferEvent.map({ bufferevent_get_input($0) }) { evbuffer_drain(input, length) }
    }

    func drained() {
        guard bufferEvent != nil else { return }
        if closing {
            close()
            return
        }
        // The write callback fires when the output is empty (low-water mark 0).
        onDrained()
    }

    func event(_ what: Int16) {
        if Int32(what) & (BEV_EVENT_EOF | BEV_EVENT_ERROR) != 0 {
            if Int32(what) & BEV_EVENT_EOF != 0 {
                closeWhenFlushed()
            } else {
                close()
            }
        }
    }
}
