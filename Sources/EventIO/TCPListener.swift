import CLibevent
import Glibc

/// A listening TCP socket that we create and bind ourselves (so it can be FREEBIND), and
/// accept from ourselves, a batch of connections per turn of the loop (libevent's
/// evconnlistener accepts the whole backlog at once).
public final class TCPListener {
    public let address: SocketAddress
    private let loop: EventLoop
    private let fd: Int32
    private let onAccept: (TCPConnection) -> Void
    private let onError: (EventIOError) -> Bool
    private var acceptEvent: EventHandle?
    private var resume: EventHandle?

    /// After a failed accept (out of descriptors, out of memory) that the owner could not
    /// relieve, the listener rests this long. The pending connection keeps the socket
    /// readable, so the loop would otherwise call accept again at once and fail again: a
    /// busy loop for as long as the shortage lasts.
    public static let pauseAfterAcceptError = 0.1
    /// Connections the kernel completes before we accept them. Under a flood of connects
    /// (an attacker re-opening what the cap closes) a short queue drops a client's SYN, and
    /// its retry comes a second later; the kernel caps it at net.core.somaxconn.
    public static let backlog: Int32 = 1024
    /// The most connections accepted per callback; the rest wait for the listener's next
    /// turn, behind the connections already ready to be read. Each accept at the cap closes
    /// the connection with the oldest progress (``TCPConnectionPolicy``); after a batch the
    /// loop polls at once and the new connections' first reads run before anything else of
    /// TCP, the next batch included (``EventLoop/Priority/newConnections``). So a batch no
    /// larger than the cap cannot close a client's connection before its query is read,
    /// and it is this large because an attacker that re-opens its connections keeps the
    /// kernel's accept queue full, and a new client waits behind all of it.
    public static let maximumAcceptsPerTurn = 256
    private let acceptsPerTurn: Int

    public init(
        loop: EventLoop, address: SocketAddress, reusePort: Bool = false, acceptsPerTurn: Int = maximumAcceptsPerTurn,
        onAccept: @escaping (TCPConnection) -> Void, onError: @escaping (EventIOError) -> Bool
    ) throws(EventIOError) {
        precondition(acceptsPerTurn > 0, "a listener must accept")
        self.address = address
        self.acceptsPerTurn = acceptsPerTurn
        self.loop = loop
        self.onAccept = onAccept
        self.onError = onError
        let fd = try Socket.bind(address, kind: .tcp, reusePort: reusePort)
        do throws(EventIOError) {
            try Socket.listen(fd, backlog: Self.backlog, address: address)
        } catch {
            Socket.close(fd)
            throw error
        }
        // From here a throw runs deinit, which closes the socket.
        self.fd = fd
        acceptEvent = try EventHandle(base: loop.base, fd: fd, events: Int16(EV_READ | EV_PERSIST), priority: .connections) {
            [unowned self] _ in self.acceptWaiting()
        }
        resume = try EventHandle(base: loop.base, fd: -1, events: 0, priority: .connections) { [unowned self] _ in
            self.acceptEvent?.add()
        }
        acceptEvent?.add()
    }

    deinit {
        resume?.free()
        acceptEvent?.free()
        Socket.close(fd)
    }

    /// Up to `acceptsPerTurn` connections; the socket stays readable while more wait, so
    /// the loop comes back for them on its next turn.
    private func acceptWaiting() {
        defer { loop.pollAfterThisCallback() }
        for _ in 0..<acceptsPerTurn {
            switch Socket.accept(fd) {
            case .connection(let connectionFD):
                accepted(connectionFD)
            case .none:
                return
            case .failed(let code):
                acceptFailed(code)
                return
            }
        }
    }

    private func accepted(_ fd: Int32) {
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

    /// `onError` returns true when it freed something (closed a connection): accepting goes
    /// on at the next turn of the loop, once that descriptor is closed. Otherwise the
    /// listener rests.
    private func acceptFailed(_ code: Int32) {
        let relieved = onError(.system(call: "accept", context: "TCP \(address)", errno: code))
        if !relieved {
            acceptEvent?.remove()
            resume?.add(timeout: Self.pauseAfterAcceptError)
        }
    }
}
