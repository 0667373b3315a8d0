import CSocketShim
import Glibc

/// Every socket system call of the server: creating, configuring and binding listen sockets.
public enum Socket {
    public enum Kind: Sendable { case udp, tcp }

    /// SO_SNDBUF and SO_RCVBUF of TCP connections (the kernel doubles it for its own
    /// bookkeeping): 16 KiB is hundreds of replies or queries.
    public static let tcpBufferSize = 16 * 1024

    /// A non-blocking socket bound to `address`.
    ///
    /// IPv6 sockets are V6ONLY (so `[::]` and `0.0.0.0` can be bound side by side) and
    /// FREEBIND, so the server starts before its address exists on any interface: the tunnel
    /// interface often comes up after the resolver. IPv4 sockets are FREEBIND too.
    /// `reusePort` lets several workers each bind their own socket to the same address.
    public static func bind(_ address: SocketAddress, kind: Kind, reusePort: Bool = false) throws(EventIOError) -> Int32 {
        let domain = address.family == .v6 ? AF_INET6 : AF_INET
        let type =
            (kind == .udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue))
            | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = Glibc.socket(domain, type, 0)
        guard fd >= 0 else { throw .system(call: "socket", context: "for \(address)", errno: Errno.current) }
        do throws(EventIOError) {
            try setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR")
            if reusePort { try setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT") }
            if address.family == .v6 {
                try setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1, "IPV6_V6ONLY")
                try setOption(fd, Int32(IPPROTO_IPV6), cdns_IPV6_FREEBIND, 1, "IPV6_FREEBIND")
            } else {
                try setOption(fd, Int32(IPPROTO_IP), cdns_IP_FREEBIND, 1, "IP_FREEBIND")
            }
            if kind == .udp {
                // Room for bursts: a full receive queue drops queries silently. Best effort:
                // the kernel caps it at net.core.rmem_max.
                _ = try? setOption(fd, SOL_SOCKET, SO_RCVBUF, 4 << 20, "SO_RCVBUF")
                _ = try? setOption(fd, SOL_SOCKET, SO_SNDBUF, 4 << 20, "SO_SNDBUF")
            } else {
                // Fixed, small kernel buffers for every connection accepted (they inherit
                // them): left to autotuning, the kernel holds up to 4 MiB of replies for a
                // client that never reads (net.ipv4.tcp_wmem), before the server's own cap
                // on unsent replies sees any of it. A DNS client has a few queries in flight.
                try setOption(fd, SOL_SOCKET, SO_SNDBUF, Int32(tcpBufferSize), "SO_SNDBUF")
                try setOption(fd, SOL_SOCKET, SO_RCVBUF, Int32(tcpBufferSize), "SO_RCVBUF")
            }
            let result = address.withSockaddr { Glibc.bind(fd, $0, $1) }
            guard result == 0 else {
                throw .system(call: "bind", context: "\(kind == .udp ? "UDP" : "TCP") \(address)", errno: Errno.current)
            }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }

    /// Starts listening on a bound TCP socket; `backlog` connections may wait to be accepted.
    public static func listen(_ fd: Int32, backlog: Int32, address: SocketAddress) throws(EventIOError) {
        guard Glibc.listen(fd, backlog) == 0 else { throw .system(call: "listen", context: "TCP \(address)", errno: Errno.current) }
    }

    /// What one `accept` on a listening socket gave.
    enum Accepted {
        /// A connection, non-blocking and close-on-exec.
        case connection(Int32)
        /// None is waiting.
        case none
        /// Accept failed with this errno (out of descriptors: EMFILE, ENFILE; out of memory).
        case failed(Int32)
    }

    /// Takes one waiting connection from `fd`. Failures that concern only the connection
    /// (it was reset before we took it, a signal) move on to the next one, as libevent does.
    static func accept(_ fd: Int32) -> Accepted {
        while true {
            let connection = cdns_accept(fd)
            if connection >= 0 { return .connection(connection) }
            let code = Errno.current
            switch code {
            case EAGAIN, EWOULDBLOCK: return .none
            case EINTR, ECONNABORTED: continue
            default: return .failed(code)
            }
        }
    }

    private static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32, _ label: String) throws(EventIOError) {
        var value = value
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw .system(call: "setsockopt", context: label, errno: Errno.current)
        }
    }

    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
