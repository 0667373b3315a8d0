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
    /// Not yet read from: its reads run at ``EventLoop/Priority/newConnections``.
    private var isNew = true

    /// Bytes received; they are consumed when the call returns.
    public var onData: (UnsafeRawBufferPointer) -> Void = { _ in }
    /// The timer set with ``scheduleTimer(after:)`` fired.
    public var onTimer: () -> Void = {}
    /// Every byte queued has been handed to the kernel.
    public var onDrained: () -> Void = {}
    /// The connection is gone (peer closed, error, or ``close()``); called once.
    public var onClose: () -> Void = {}

    /// Bytes read from the socket per read callback.
    public static let maximumSingleRead = 512

    /// Fails when libevent cannot make the idle timer or the bufferevent; `fd` is then still
    /// the caller's to close.
    init(loop: EventLoop, fd: Int32) throws(EventIOError) {
        // The timer first: a connection without one would never be closed for idleness, and
        // until the bufferevent owns `fd` a failure leaves nothing of it behind.
        timer = try EventHandle(base: loop.base, fd: -1, events: 0, priority: .connections) { [unowned self] _ in self.onTimer() }
        guard let bufferEvent = bufferevent_socket_new(loop.base, fd, Int32(BEV_OPT_CLOSE_ON_FREE.rawValue)) else {
            throw .libevent(call: "bufferevent_socket_new")
        }
        self.bufferEvent = bufferEvent
        // One read takes at most this much (libevent's default is 16 KiB): a client that
        // pipelines hundreds of queries is answered over many turns of the loop, so the other
        // connections (and a new client's one query) wait for at most a dozen or so replies
        // per busy connection, not hundreds. A query is well under 100 bytes; one that is
        // longer is completed on the connection's next turn.
        bufferevent_set_max_single_read(bufferEvent, Self.maximumSingleRead)
        // The first read goes ahead of the connections already open (EventLoop.Priority).
        bufferevent_priority_set(bufferEvent, EventLoop.Priority.newConnections.rawValue)
        bufferevent_setcb(bufferEvent, readTrampoline, writeTrampoline, connectionEventTrampoline, retainedPointer(self))
        bufferevent_enable(bufferEvent, Int16(EV_READ | EV_WRITE))
    }

    deinit { release() }

    /// Sends `bytes`: straight to the socket when nothing is queued ahead of them (the usual
    /// case, so a reply leaves in the callback that read its query, with no turn of the loop
    /// in between), and whatever the socket does not take is queued for when it can
    /// (``pendingOutput``, then ``onDrained``).
    public func write(_ bytes: UnsafeRawBufferPointer) {
        guard let bufferEvent, !closing, let start = bytes.baseAddress else { return }
        var offset = 0
        if evbuffer_get_length(bufferevent_get_output(bufferEvent)) == 0 {
            let sent = Glibc.send(bufferevent_getfd(bufferEvent), start, bytes.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            if sent == bytes.count { return }
            // A full socket (EAGAIN) queues everything; so does a failure, which the
            // bufferevent's own write then meets and reports, closing the connection.
            offset = max(sent, 0)
        }
        bufferevent_write(bufferEvent, start + offset, bytes.count - offset)
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
        // The first read is done: from now on this connection waits its turn. (It fails while
        // the write event is queued to run; the next read tries again.)
        if isNew, bufferevent_priority_set(bufferEvent, EventLoop.Priority.connections.rawValue) == 0 { isNew = false }
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
