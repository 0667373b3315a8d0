import CLibevent
import Glibc

/// A listening TCP socket that we create and bind ourselves (so it can be FREEBIND, which
/// `evconnlistener_new_bind` cannot do) and hand to libevent's listener.
public final class TCPListener {
    public let address: SocketAddress
    private let loop: EventLoop
    private var listener: OpaquePointer?
    private let onAccept: (TCPConnection) -> Void
    private let onError: (EventIOError) -> Void

    public init(
        loop: EventLoop, address: SocketAddress, reusePort: Bool = false, onAccept: @escaping (TCPConnection) -> Void,
        onError: @escaping (EventIOError) -> Void
    ) throws(EventIOError) {
        self.address = address
        self.loop = loop
        self.onAccept = onAccept
        self.onError = onError
        let fd = try Socket.bind(address, kind: .tcp, reusePort: reusePort)
        let flags = UInt32(LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC)
        guard let listener = evconnlistener_new(loop.base, acceptTrampoline, retainedPointer(self), flags, 128, fd) else {
            let code = Errno.current
            Socket.close(fd)
            throw .system(call: "listen", context: "TCP \(address)", errno: code)
        }
        self.listener = listener
        evconnlistener_set_error_cb(listener, acceptErrorTrampoline)
    }

    deinit {
        if let listener { evconnlistener_free(listener) }
    }

    func accepted(_ fd: Int32) {
        let connection: TCPConnection
        do {
            connection = try TCPConnection(loop: loop, fd: fd)
        } catch {
            // Reported like a failed accept: the connection is closed, never served untimed.
            Socket.close(fd)
            onError(error)
            return
        }
        onAccept(connection)
    }

    func acceptFailed(_ code: Int32) {
        onError(.system(call: "accept", context: "TCP \(address)", errno: code))
    }
}
