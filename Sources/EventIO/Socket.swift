import CSocketShim
import Glibc

/// Every socket system call of the server: creating, configuring and binding listen sockets.
public enum Socket {
    public enum Kind: Sendable { case udp, tcp }

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
