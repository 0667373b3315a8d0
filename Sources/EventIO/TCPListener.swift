import CLibevent
import Glibc

/// A listening TCP socket that we create and bind ourselves (so it can be FREEBIND, which
/// `evconnlistener_new_bind` cannot do) and hand to libevent's listener.
public final class TCPListener {
    public let address: SocketAddress
    private let loop: EventLoop
    private var listener: OpaquePointer?
    private let onAccept: (TCPConnection) -> Void
    private let onError: (EventIOError) -> Bool
    private var resume: EventHandle?

    /// After a failed accept (out of descriptors, out of memory) that the owner could not
    /// relieve, the listener rests this long. The pending connection keeps the socket
    /// readable, so libevent would otherwise call accept again at once and fail again: a
    /// busy loop for as long as the shortage lasts.
    public static let pauseAfterAcceptError = 0.1
    /// Connections the kernel completes before we accept them. Under a flood of connects
    /// (an attacker re-opening what the cap closes) a short queue drops a client's SYN, and
    /// its retry comes a second later; the kernel caps it at net.core.somaxconn.
    public static let backlog: Int32 = 1024

    public init(
        loop: EventLoop, address: SocketAddress, reusePort: Bool = false, onAccept: @escaping (TCPConnection) -> Void,
        onError: @escaping (EventIOError) -> Bool
    ) throws(EventIOError) {
        self.address = address
        self.loop = loop
        self.onAccept = onAccept
        self.onError = onError
        let fd = try Socket.bind(address, kind: .tcp, reusePort: reusePort)
        let flags = UInt32(LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC)
        guard let listener = evconnlistener_new(loop.base, acceptTrampoline, retainedPointer(self), flags, Self.backlog, fd) else {
            let code = Errno.current
            Socket.close(fd)
            throw .system(call: "listen", context: "TCP \(address)", errno: code)
        }
        self.listener = listener
        evconnlistener_set_error_cb(listener, acceptErrorTrampoline)
        resume = try EventHandle(base: loop.base, fd: -1, events: 0) { [unowned self] _ in
            if let listener = self.listener { evconnlistener_enable(listener) }
        }
    }

    deinit {
        resume?.free()
        if let listener { evconnlistener_free(listener) }
    }

    func accepted(_ fd: Int32) {
        let connection: TCPConnection
        do {
            connection = try TCPConnection(loop: loop, fd: fd)
        } catch {
            // Reported like a failed accept: the connection is closed, never served untimed.
            Socket.close(fd)
            _ = onError(error)
            return
        }
        onAccept(connection)
    }

    /// libevent has already retried what can be retried (EAGAIN, EINTR, ECONNABORTED).
    /// `onError` returns true when it freed something (closed a connection): accepting goes
    /// on at the next turn of the loop, once that descriptor is closed. Otherwise the
    /// listener rests.
    func acceptFailed(_ code: Int32) {
        let relieved = onError(.system(call: "accept", context: "TCP \(address)", errno: code))
        if !relieved, let listener {
            evconnlistener_disable(listener)
            resume?.add(timeout: Self.pauseAfterAcceptError)
        }
    }
}
