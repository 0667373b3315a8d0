import DNSWire
import EventIO

#if canImport(Glibc)
    import Glibc
#endif

/// One DNS query sent straight to a server over UDP or TCP, for `coderdns doctor`.
///
/// Not the server's packet path: a blocking client with a deadline, a few packets per run.
/// The messages are built and parsed with DNSWire, the same code the server uses.
enum DoctorProbe {
    enum Transport: String, Sendable {
        case udp = "UDP"
        case tcp = "TCP"
    }

    enum Outcome {
        /// A reply with the query's ID; `milliseconds` from sending to receiving.
        case answered(Message, milliseconds: Double)
        /// No usable reply: why, in words for a person.
        case failed(String)
    }

    /// The query `coderdns doctor` sends: RD set and an EDNS OPT with a 1232-byte payload,
    /// as systemd-resolved sends it.
    static func query(id: UInt16, name: DomainName, type: RecordType) -> Message {
        Message(
            header: Header(id: id, flags: Header.Bit.recursionDesired),
            questions: [Question(name: name, type: type)],
            additional: [EDNS(udpPayloadSize: 1232).record])
    }

    /// Sends `query` to `server` and waits up to `timeout` seconds for the reply.
    static func send(_ query: Message, to server: SocketAddress, over transport: Transport, timeout: Double) -> Outcome {
        let started = monotonicNow()
        let deadline = started + timeout
        let result: Result<[UInt8], ProbeError>
        switch transport {
        case .udp: result = exchangeUDP(query.bytes, with: server, id: query.header.id, deadline: deadline)
        case .tcp: result = exchangeTCP(query.bytes, with: server, deadline: deadline)
        }
        switch result {
        case .failure(let error):
            return .failed(error.description)
        case .success(let bytes):
            let elapsed = (monotonicNow() - started) * 1000
            do {
                let reply = try Message(bytes: bytes)
                guard reply.header.id == query.header.id, reply.header.isResponse else {
                    return .failed("the reply does not match the query (ID \(reply.header.id), QR \(reply.header.isResponse))")
                }
                return .answered(reply, milliseconds: elapsed)
            } catch {
                return .failed("the reply is not a well-formed DNS message (\(error))")
            }
        }
    }

    struct ProbeError: Error, CustomStringConvertible {
        let description: String

        init(_ description: String) { self.description = description }

        /// `what` failed with `code`, with the usual meaning of the common codes spelled out.
        init(_ what: String, errno code: Int32) {
            let text = String(cString: strerror(code))
            let meaning: String
            switch code {
            case ECONNREFUSED: meaning = ": nothing listens on that address and port"
            case ENETUNREACH: meaning = ": this machine has no route to that address"
            case EHOSTUNREACH: meaning = ": the address is routed but no host answers for it"
            case EADDRNOTAVAIL: meaning = ": no local address can reach it"
            default: meaning = ""
            }
            description = "\(what): \(text)\(meaning)"
        }
    }

    // MARK: - UDP

    private static func exchangeUDP(_ bytes: [UInt8], with server: SocketAddress, id: UInt16, deadline: Double) -> Result<[UInt8], ProbeError> {
        let fd = socket(family(of: server), Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(ProbeError("socket", errno: errno)) }
        defer { close(fd) }
        // A connected UDP socket: ICMP errors (port unreachable, no route) come back as errno.
        if let error = connect(fd, to: server) { return .failure(error) }
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
        guard sent == bytes.count else { return .failure(ProbeError("send", errno: errno)) }
        var buffer = [UInt8](repeating: 0, count: 65535)
        while true {
            if let error = waitUntil(fd, isReadyFor: Int16(POLLIN), before: deadline) { return .failure(error) }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                return .failure(ProbeError("no reply over UDP", errno: errno))
            }
            // A stray datagram with another ID is not our reply: keep waiting.
            if count >= 2, UInt16(buffer[0]) << 8 | UInt16(buffer[1]) == id { return .success(Array(buffer[0..<count])) }
        }
    }

    // MARK: - TCP

    private static func exchangeTCP(_ bytes: [UInt8], with server: SocketAddress, deadline: Double) -> Result<[UInt8], ProbeError> {
        let fd = socket(family(of: server), Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .failure(ProbeError("socket", errno: errno)) }
        defer { close(fd) }
        if let error = connect(fd, to: server) {
            guard error.description.hasPrefix("connect in progress") else { return .failure(error) }
            if let error = waitUntil(fd, isReadyFor: Int16(POLLOUT), before: deadline) { return .failure(error) }
            var code: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length)
            if code != 0 { return .failure(ProbeError("TCP connect", errno: code)) }
        }
        // RFC 1035 4.2.2 / RFC 7766: a two-byte length, then the message.
        let framed = [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xFF)] + bytes
        var written = 0
        while written < framed.count {
            if let error = waitUntil(fd, isReadyFor: Int16(POLLOUT), before: deadline) { return .failure(error) }
            let count = framed[written...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .failure(ProbeError("TCP send", errno: errno))
            }
            written += count
        }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            if received.count >= 2 {
                let length = Int(received[0]) << 8 | Int(received[1])
                if received.count >= 2 + length { return .success(Array(received[2..<(2 + length)])) }
            }
            if let error = waitUntil(fd, isReadyFor: Int16(POLLIN), before: deadline) { return .failure(error) }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                return .failure(ProbeError("TCP receive", errno: errno))
            }
            if count == 0 { return .failure(ProbeError("the server closed the TCP connection without a complete reply")) }
            received += buffer[0..<count]
        }
    }

    // MARK: - Sockets

    private static func family(of address: SocketAddress) -> Int32 {
        address.family == .v6 ? AF_INET6 : AF_INET
    }

    /// nil on success; EINPROGRESS (a non-blocking TCP socket) comes back as "connect in progress".
    private static func connect(_ fd: Int32, to server: SocketAddress) -> ProbeError? {
        let result = server.withSockaddr { Glibc.connect(fd, $0, $1) }
        if result == 0 { return nil }
        if errno == EINPROGRESS { return ProbeError("connect in progress") }
        return ProbeError("connect", errno: errno)
    }

    /// nil when `fd` is ready; an error when the deadline passes first.
    private static func waitUntil(_ fd: Int32, isReadyFor events: Int16, before deadline: Double) -> ProbeError? {
        while true {
            let remaining = deadline - monotonicNow()
            if remaining <= 0 { return ProbeError("no reply within the timeout") }
            var entry = pollfd(fd: fd, events: events, revents: 0)
            let result = poll(&entry, 1, Int32(max(1, (remaining * 1000).rounded(.up))))
            if result > 0 { return nil }
            if result < 0 && errno != EINTR { return ProbeError("poll", errno: errno) }
        }
    }
}

/// Seconds on the monotonic clock.
func monotonicNow() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
