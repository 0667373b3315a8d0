import EventIO
import Glibc
import RecordStore
import Synchronization

/// The `--control-plane` stream: one `WorkspaceUpdatesRequest`, then `WorkspaceUpdate`
/// messages, both with protobuf's delimited framing (a varint length before each), over TCP
/// or a unix socket. No Coder deployment speaks it; it serves the project's own tests and
/// benchmarks and anyone who bridges another source of workspaces (docs/control-plane.md).
public final class DelimitedFeed: UpdateFeed {
    let endpoint: ControlPlaneEndpoint
    let request: [UInt8]
    let maximumMessageLength: Int
    let connectTimeout: Double
    /// Woken by ``cancel()``, to end a dial under way.
    private let cancelPipe = WakePipe()
    private let cancelled = Atomic<Bool>(false)

    public init(endpoint: ControlPlaneEndpoint, ownerID: Identifier?, maximumMessageLength: Int = 64 << 20, connectTimeout: Double = 5) {
        self.endpoint = endpoint
        request = DelimitedFramer.frame(
            WorkspaceUpdatesRequest(workspaceOwnerID: ownerID.map(IdentifierField.init) ?? .empty).serializedBytes())
        self.maximumMessageLength = maximumMessageLength
        self.connectTimeout = connectTimeout
    }

    public var destination: String { endpoint.description }

    public func cancel() {
        cancelled.store(true, ordering: .sequentiallyConsistent)
        cancelPipe.wake()
    }

    public func connect() -> Result<any UpdateConnection, FeedFailure> {
        guard !cancelled.load(ordering: .sequentiallyConsistent) else { return .failure(FeedFailure("stopping", severity: .routine)) }
        let fd: Int32
        do {
            fd = try dial()
        } catch {
            return .failure(error)
        }
        guard writeAll(fd, request) else {
            close(fd)
            return .failure(FeedFailure("control-plane connection to \(endpoint) failed while sending the request", severity: .routine))
        }
        return .success(Connection(fd: fd, maximumMessageLength: maximumMessageLength, endpoint: endpoint))
    }

    /// A connected, non-blocking socket.
    private func dial() throws(FeedFailure) -> Int32 {
        let fd: Int32
        let result: Int32
        switch endpoint {
        case .unix(let path):
            fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw FeedFailure("cannot open a socket: \(String(cString: strerror(errno)))") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                raw.copyBytes(from: Array(path.utf8) + [0])
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        case .inet:
            guard let address = endpoint.socketAddress else {
                throw FeedFailure("control-plane endpoint \(endpoint) is not an address", isPermanent: true)
            }
            fd = socket(
                address.family == .v6 ? AF_INET6 : AF_INET,
                Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw FeedFailure("cannot open a socket: \(String(cString: strerror(errno)))") }
            result = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        }
        if result != 0 {
            let error = errno
            guard error == EINPROGRESS || error == EAGAIN else {
                close(fd)
                throw failure(error)
            }
            var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0), pollfd(fd: cancelPipe.descriptor, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, Int32(connectTimeout * 1000))
            var soError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &length)
            guard ready > 0, fds[0].revents != 0, soError == 0 else {
                close(fd)
                throw ready == 0 ? FeedFailure("timed out connecting to \(endpoint)", severity: .routine) : failure(soError)
            }
        }
        return fd
    }

    private func failure(_ error: Int32) -> FeedFailure {
        let text = String(cString: strerror(error))
        // Refused and unreachable are what a control plane that is away looks like.
        let routine = [ECONNREFUSED, ENOENT, ENETUNREACH, EHOSTUNREACH].contains(error)
        return FeedFailure("cannot connect to \(endpoint): \(text)", severity: routine ? .routine : .problem)
    }

    private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN {
                    var fds = [pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)]
                    guard poll(&fds, 1, 5000) > 0 else { return false }
                    continue
                }
                return false
            }
            offset += written
        }
        return true
    }

    final class Connection: UpdateConnection {
        let fd: Int32
        let endpoint: ControlPlaneEndpoint
        var framer: DelimitedFramer
        var buffer = [UInt8](repeating: 0, count: 1 << 16)

        init(fd: Int32, maximumMessageLength: Int, endpoint: ControlPlaneEndpoint) {
            self.fd = fd
            self.endpoint = endpoint
            framer = DelimitedFramer(maximumMessageLength: maximumMessageLength)
        }

        var identity: FeedIdentity? { nil }
        var descriptor: Int32 { fd }

        func receive(into messages: inout [[UInt8]]) -> FeedFailure? {
            while true {
                let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if count < 0 {
                    if errno == EINTR { continue }
                    if errno == EAGAIN { return nil }
                    return FeedFailure("control-plane connection to \(endpoint) failed: \(String(cString: strerror(errno)))", severity: .routine)
                }
                guard count > 0 else { return FeedFailure("control-plane connection to \(endpoint) closed", severity: .routine) }
                framer.append(buffer[0..<count])
                do {
                    while let message = try framer.nextMessage() { messages.append(message) }
                } catch {
                    return FeedFailure("control-plane stream from \(endpoint) is not delimited protobuf: \(error)", isRejectedMessage: true)
                }
            }
        }

        func close() { Glibc.close(fd) }
    }
}
