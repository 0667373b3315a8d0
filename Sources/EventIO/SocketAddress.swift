import Glibc

/// A listen address: `[v6-address]:port` or `v4-address:port`.
public struct SocketAddress: Equatable, Sendable, CustomStringConvertible {
    public enum Family: Sendable { case v4, v6 }
    public let family: Family
    /// The address in network byte order: 4 or 16 bytes.
    public let addressBytes: [UInt8]
    public let port: UInt16
    public let text: String

    public init(_ text: String) throws(EventIOError) {
        self.text = text
        let host: String
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw .badAddress(text, reason: "missing ']' after the IPv6 address")
            }
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw .badAddress(text, reason: "expected ':port' after ']'")
            }
            portText = rest.dropFirst()
            family = .v6
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw .badAddress(text, reason: "expected [v6-address]:port or v4-address:port")
            }
            host = String(text[..<colon])
            portText = text[text.index(after: colon)...]
            family = .v4
        }
        guard let port = UInt16(portText), !portText.isEmpty else {
            throw .badAddress(text, reason: "port \"\(portText)\" is not a number from 0 to 65535")
        }
        self.port = port
        let isV6 = family == .v6
        var bytes = [UInt8](repeating: 0, count: isV6 ? 16 : 4)
        let ok = bytes.withUnsafeMutableBytes { inet_pton(isV6 ? AF_INET6 : AF_INET, host, $0.baseAddress) }
        guard ok == 1 else {
            throw .badAddress(text, reason: "\"\(host)\" is not an IPv\(isV6 ? "6" : "4") address")
        }
        addressBytes = bytes
    }

    public var description: String { text }

    /// The address without the port (no brackets), as `getaddrinfo` and SwiftNIO take it.
    public var host: String {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") { return String(text[text.index(after: text.startIndex)..<close]) }
        return text.lastIndex(of: ":").map { String(text[..<$0]) } ?? text
    }

    /// Calls `body` with the address as a `sockaddr` (for bind, connect, sendto).
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch family {
        case .v6:
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: addressBytes) }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        case .v4:
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: addressBytes) }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
    }
}
