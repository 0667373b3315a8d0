import DNSWire
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The two loopback addresses every test server listens on.
enum LoopbackAddress: String, CaseIterable, Sendable, CustomStringConvertible {
    case ipv4 = "127.0.0.1"
    case ipv6 = "::1"

    var description: String { rawValue }

    var family: Int32 { self == .ipv4 ? AF_INET : AF_INET6 }

    func withSockaddr<R>(port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        switch self {
        case .ipv4:
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            _ = inet_pton(AF_INET, rawValue, &address.sin_addr)
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case .ipv6:
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            _ = inet_pton(AF_INET6, rawValue, &address.sin6_addr)
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
    }
}

struct SocketError: Error, CustomStringConvertible {
    let description: String
    init(_ call: String, errno code: Int32 = errno) {
        description = "\(call): \(String(cString: strerror(code))) (errno \(code))"
    }
}

/// A connected UDP or TCP socket on loopback, for packets `dig` cannot send and for timing
/// that a client program hides (split writes, idle connections, half-close).
final class RawSocket {
    enum Kind {
        case udp, tcp
    }

    enum ReadOutcome: Equatable, CustomStringConvertible {
        case bytes([UInt8])
        /// read() returned 0: the peer closed the connection.
        case closed
        case timedOut
        case failed(errno: Int32)

        var description: String {
            switch self {
            case .bytes(let bytes): "\(bytes.count) bytes"
            case .closed: "closed by the peer"
            case .timedOut: "nothing before the timeout"
            case .failed(let code): "error: \(String(cString: strerror(code)))"
            }
        }
    }

    let fd: Int32
    /// TCP bytes received but not yet returned as a message.
    private var pending: [UInt8] = []

    init(_ kind: Kind, to address: LoopbackAddress, port: UInt16) throws {
        let fd = socket(address.family, kind == .udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        let result = address.withSockaddr(port: port) { connect(fd, $0, $1) }
        guard result == 0 else {
            let error = SocketError("connect to \(address) port \(port)")
            close(fd)
            throw error
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Writes all of `bytes` (one datagram for UDP).
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        repeat {
            let sent = bytes.withUnsafeBytes { buffer in
                Glibc.send(fd, buffer.baseAddress.map { $0 + offset }, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent < 0 {
                if errno == EINTR { continue }
                throw SocketError("send")
            }
            offset += sent
        } while offset < bytes.count
    }

    /// shutdown(SHUT_WR): the client's half-close after its last query.
    func shutdownWrite() throws {
        guard shutdown(fd, Int32(SHUT_WR)) == 0 else { throw SocketError("shutdown") }
    }

    /// One read(), waiting at most `timeout` seconds for something to read.
    func readSome(timeout: Double) -> ReadOutcome {
        let deadline = monotonicSeconds() + timeout
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let left = max(0, deadline - monotonicSeconds())
            let ready = poll(&poller, 1, Int32((left * 1000).rounded(.up)))
            if ready < 0 {
                if errno == EINTR { continue }
                return .failed(errno: errno)
            }
            if ready == 0 { return .timedOut }
            var buffer = [UInt8](repeating: 0, count: 65_536)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failed(errno: errno)
            }
            if count == 0 { return .closed }
            return .bytes(Array(buffer[0..<count]))
        }
    }

    /// UDP: the next datagram, or nil if none arrives within `timeout` seconds.
    func receiveDatagram(timeout: Double) throws -> [UInt8]? {
        switch readSome(timeout: timeout) {
        case .bytes(let bytes): return bytes
        case .timedOut: return nil
        case .closed: return []
        case .failed(let code): throw SocketError("recv", errno: code)
        }
    }

    /// UDP: sends `query` and returns the parsed reply; no reply within `timeout` is an error.
    func exchange(_ query: [UInt8], timeout: Double = 2) throws -> Message {
        try send(query)
        guard let reply = try receiveDatagram(timeout: timeout) else {
            throw HarnessError("no UDP reply within \(timeout) s")
        }
        return try Message(bytes: reply)
    }

    /// TCP: the next length-prefixed message (without its prefix).
    func receiveMessage(timeout: Double = 3) throws -> [UInt8] {
        let deadline = monotonicSeconds() + timeout
        while true {
            if pending.count >= 2 {
                let length = Int(pending[0]) << 8 | Int(pending[1])
                if pending.count >= 2 + length {
                    let message = Array(pending[2..<(2 + length)])
                    pending.removeFirst(2 + length)
                    return message
                }
            }
            let outcome = readSome(timeout: max(0, deadline - monotonicSeconds()))
            guard case .bytes(let bytes) = outcome else {
                throw HarnessError("waiting for a TCP message (\(pending.count) bytes of one so far): \(outcome)")
            }
            pending += bytes
        }
    }

    /// TCP: waits for the peer to close; returns what happened instead if it did not.
    func waitForClose(timeout: Double) -> ReadOutcome {
        if !pending.isEmpty { return .bytes(pending) }
        return readSome(timeout: timeout)
    }
}

/// Builds query bytes with DNSWire.
enum DNSQuery {
    static func message(
        id: UInt16, name: String, type: RecordType, dnsClass: DNSClass = .internet, flags: UInt16 = 0, edns: EDNS? = nil
    ) throws -> Message {
        var message = Message(
            header: Header(id: id, flags: flags), questions: [Question(name: try DomainName(name), type: type, dnsClass: dnsClass)])
        if let edns { message.additional = [edns.record] }
        return message
    }

    static func bytes(
        id: UInt16, name: String, type: RecordType, dnsClass: DNSClass = .internet, flags: UInt16 = 0, edns: EDNS? = nil
    ) throws -> [UInt8] {
        try message(id: id, name: name, type: type, dnsClass: dnsClass, flags: flags, edns: edns).bytes
    }

    /// RFC 1035 4.2.2: the two-byte length prefix of TCP.
    static func framed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }
}

/// IPv6 text in canonical form (so `fd60:627a:a42b:0708::` and `fd60:627a:a42b:708::` agree).
func ipv6Bytes(_ text: String) -> [UInt8]? {
    var bytes = [UInt8](repeating: 0, count: 16)
    let ok = bytes.withUnsafeMutableBytes { inet_pton(AF_INET6, text, $0.baseAddress) }
    return ok == 1 ? bytes : nil
}

/// The 16 bytes of an address written in the tests; empty (so that comparisons fail, not
/// crash) for text that is not one.
func ipv6(_ text: String) -> [UInt8] { ipv6Bytes(text) ?? [] }

extension Message {
    /// The addresses of the AAAA records in the answer section.
    var answerAddresses: [[UInt8]] {
        answers.compactMap { record in
            if case .aaaa(let bytes) = record.data { return bytes }
            return nil
        }
    }
}
