import DNSWire
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 11, item 3: an attacker holding 1,000 TCP connections cannot lock a well-behaved
/// TCP client out, and UDP keeps answering (docs/behaviour.md, "UDP and TCP"). Speed is
/// not asserted here: `bench/tcp-abuse` measures it (docs/benchmarks.md).
///
/// Serialized: each test holds over a thousand sockets.
@Suite("TCP abuse", .serialized)
struct TCPAbuseTests {
    static let attackers = 1000

    enum Shape: String, CaseIterable, CustomStringConvertible {
        /// Connects and sends nothing.
        case idle
        /// One byte of a length prefix, then nothing.
        case oneBytePrefix
        /// One byte a second, never a whole query.
        case drip
        /// Sends queries as fast as the connection takes them and never reads a reply.
        case nonReader

        var description: String { rawValue }
    }

    /// An attacker's connection: non-blocking after connect, so a server that stops reading
    /// never blocks the test.
    final class AttackSocket {
        let fd: Int32

        /// - Parameters:
        ///   - receiveBuffer: SO_RCVBUF, set before connecting (a small one fills with unread
        ///     replies at once, so the server's own queue for the connection is what grows).
        ///   - waitForConnect: false connects without blocking (a full accept queue would hold
        ///     a blocking connect for a second).
        init(port: UInt16, receiveBuffer: Int32? = nil, waitForConnect: Bool = true) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw SocketError("socket") }
            if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
            if !waitForConnect { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
            let result = LoopbackAddress.ipv4.withSockaddr(port: port) { connect(fd, $0, $1) }
            guard result == 0 || (!waitForConnect && errno == EINPROGRESS) else {
                let error = SocketError("connect")
                close(fd)
                throw error
            }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }

        deinit { close(fd) }

        /// Sends what the socket takes now; errors (a connection already closed) are ignored.
        func offer(_ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        }

        /// True once the server has closed or reset the connection, whether or not replies
        /// are still unread (poll's POLLRDHUP, POLLHUP or POLLERR); reads nothing.
        var isHungUp: Bool {
            // POLLRDHUP (<poll.h>, a GNU extension Glibc's module leaves out).
            let readHangUp: Int16 = 0x2000
            var entry = pollfd(fd: fd, events: readHangUp, revents: 0)
            guard poll(&entry, 1, 0) >= 0 else { return true }
            let hungUp: Int16 = readHangUp | Int16(POLLHUP) | Int16(POLLERR)
            return entry.revents & hungUp != 0
        }

        /// Sends what the socket takes now, reading nothing; false once the connection is gone
        /// (the server closed or reset it, or the connect failed).
        func flood(_ bytes: [UInt8]) -> Bool {
            let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            return sent >= 0 || errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
        }

        /// True once the server has closed the connection (EOF or reset); reads and throws
        /// away any replies on the way.
        var isClosedByServer: Bool {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if count > 0 { continue }
                if count == 0 { return true }
                return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR
            }
        }
    }

    /// Lets this process hold the attack's sockets (the soft limit is often 1,024).
    static func raiseDescriptorLimit(to wanted: rlim_t) throws {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        guard limit.rlim_cur < wanted else { return }
        try #require(limit.rlim_max >= wanted, "RLIMIT_NOFILE's hard limit \(limit.rlim_max) is below \(wanted)")
        limit.rlim_cur = wanted
        setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    }

    static func query(id: UInt16) throws -> [UInt8] {
        DNSQuery.framed(try DNSQuery.bytes(id: id, name: "main.myws.me.coder", type: .aaaa))
    }

    /// Opens the attack's connections and makes each behave as `shape` says.
    static func attack(_ shape: Shape, port: UInt16, count: Int = attackers) throws -> [AttackSocket] {
        var sockets: [AttackSocket] = []
        let burst = try (0..<200).flatMap { try query(id: UInt16($0)) }
        for _ in 0..<count {
            let socket = try AttackSocket(port: port)
            switch shape {
            case .idle: break
            case .oneBytePrefix: socket.offer([0x00])
            case .drip: socket.offer([0x01])  // a 256-byte message is announced; it never comes
            case .nonReader: socket.offer(burst)
            }
            sockets.append(socket)
        }
        return sockets
    }

    /// What the attack keeps doing while the client asks.
    static func keepAttacking(_ shape: Shape, _ sockets: [AttackSocket], seconds: Double) throws {
        let burst = try (0..<100).flatMap { try query(id: UInt16($0)) }
        let end = monotonicSeconds() + seconds
        while monotonicSeconds() < end {
            switch shape {
            case .drip: for socket in sockets { socket.offer([0x00]) }
            case .nonReader: for socket in sockets { socket.offer(burst) }
            case .idle, .oneBytePrefix: break
            }
            sleep(seconds: shape == .drip ? 1 : 0.1)
        }
    }

    @Test(arguments: Shape.allCases)
    func aWellBehavedClientIsAnsweredWhileAThousandConnectionsAreHeld(shape: Shape) throws {
        try Self.raiseDescriptorLimit(to: 4096)
        // A long idle timeout: whatever closes the attack's connections here is the cap's
        // eviction (or, for the non-reader, the output limit), not the timeout.
        try ServerProcess.withServer(arguments: ["--tcp-idle-timeout", "120"]) { server in
            let sockets = try Self.attack(shape, port: server.port)
            try Self.keepAttacking(shape, sockets, seconds: shape == .drip ? 2 : 0.3)

            let client = try RawSocket(.tcp, to: .ipv4, port: server.port)
            try client.send(try Self.query(id: 0x7777))
            let reply = try Message(bytes: try client.receiveMessage(timeout: 10))
            #expect(reply.header.id == 0x7777)
            #expect(reply.rcode == .noError)
            #expect(reply.answerAddresses == [ipv6(Demo.mywsMain)])

            let udp = try RawSocket(.udp, to: .ipv4, port: server.port)
            let udpReply = try udp.exchange(try DNSQuery.bytes(id: 0x8888, name: "myws.coder", type: .aaaa))
            #expect(udpReply.header.id == 0x8888)

            // At most the cap (256, the default) of the attack's connections are still open.
            var closed = 0
            let deadline = monotonicSeconds() + 10
            repeat {
                closed = sockets.filter(\.isClosedByServer).count
                if closed >= Self.attackers - 256 { break }
                sleep(seconds: 0.2)
            } while monotonicSeconds() < deadline
            #expect(closed >= Self.attackers - 256, "\(closed) of \(Self.attackers) attack connections were closed")
        }
    }

    /// A flood of queries over `connections` connections that never read a reply and are
    /// opened again, at once, when the server closes them: on a thread of its own until
    /// ``stop()``.
    final class Flood: Sendable {
        let port: UInt16
        let connections: Int
        private let stopping = Atomic<Bool>(false)
        private let reopenedCount = Atomic<Int>(0)
        private let finished = DispatchSemaphore(value: 0)

        /// Connections opened again after the server closed them.
        var reopened: Int { reopenedCount.load(ordering: .relaxed) }

        init(port: UInt16, connections: Int) {
            self.port = port
            self.connections = connections
        }

        func start() {
            DispatchQueue.global().async { [self] in
                run()
                finished.signal()
            }
        }

        func stop() {
            stopping.store(true, ordering: .relaxed)
            finished.wait()
        }

        private func open() -> AttackSocket? {
            try? AttackSocket(port: port, receiveBuffer: 4096, waitForConnect: false)
        }

        private func run() {
            // 100 queries a send; the kernel takes what fits.
            guard let burst = try? (0..<100).flatMap({ try TCPAbuseTests.query(id: UInt16($0)) }) else { return }
            var sockets = (0..<connections).map { _ in open() }
            while !stopping.load(ordering: .relaxed) {
                for index in sockets.indices {
                    if let socket = sockets[index], socket.flood(burst) { continue }
                    sockets[index] = open()
                    reopenedCount.add(1, ordering: .relaxed)
                }
                sleep(seconds: 0.01)
            }
        }
    }

    /// A field of /proc/PID/status in KiB (VmRSS, VmHWM); 0 when it cannot be read.
    static func memoryKiB(of pid: pid_t, _ field: String) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
        }
        return 0
    }

    /// Issue 11's fourth attacker as a determined one would run it: 1,000 connections send
    /// queries as fast as the server takes them, never read a reply, and each connection the
    /// server closes is opened again at once. While it lasts, new clients are answered over
    /// TCP and UDP; the server keeps at most its cap of connections open and closes the rest;
    /// and the replies it queues for clients that do not read stay within the policy's
    /// bound (``TCPConnectionPolicy``: reading pauses above 32 KiB of unsent replies).
    @Test func aReconnectingFloodThatNeverReadsLocksNoClientOutAndItsRepliesStayBounded() throws {
        try Self.raiseDescriptorLimit(to: 4096)
        let metricsPort = IntegrationEnvironment.nextPort()
        let arguments = ["--tcp-idle-timeout", "120", "--metrics-listen", "127.0.0.1:\(metricsPort)"]
        try ServerProcess.withServer(arguments: arguments) { server in
            let flood = Flood(port: server.port, connections: Self.attackers)
            flood.start()
            defer { flood.stop() }
            sleep(seconds: 1)

            for index in 0..<10 {
                let id = UInt16(0x7000 + index)
                let client = try RawSocket(.tcp, to: .ipv4, port: server.port)
                try client.send(try Self.query(id: id))
                let reply = try Message(bytes: try client.receiveMessage(timeout: 10))
                #expect(reply.header.id == id)
                #expect(reply.answerAddresses == [ipv6(Demo.mywsMain)])
                let udp = try RawSocket(.udp, to: .ipv4, port: server.port)
                #expect(try udp.exchange(try DNSQuery.bytes(id: id, name: "myws.coder", type: .aaaa)).header.id == id)
            }

            let metrics = try ObservabilityTests.scrape(metricsPort).samples
            let open = metrics["coderdns_tcp_connections_open"] ?? -1
            #expect(open >= 0 && open <= 256, "open TCP connections: \(open)")
            #expect((metrics["coderdns_tcp_connections_evicted_total"] ?? 0) > 0, "connections were closed to make room")
            #expect(flood.reopened > 0, "the server closed none of the flood's connections")
        }
    }

    /// What a client that sends queries and never reads costs while it stays connected
    /// (the test above churns its connections too fast for their replies to pile up): 50
    /// such clients, under the cap so none is evicted, flood for 2 s. For each, the kernel
    /// holds at most its fixed 16 KiB socket buffers (doubled for bookkeeping;
    /// `Socket.tcpBufferSize`) and the server at most 32 KiB of unsent replies and one
    /// read's more (``TCPConnectionPolicy/outputHighWater``), then it stops reading from
    /// the client; with no progress, each is closed at the idle timeout.
    @Test func clientsThatNeverReadCostABoundedQueueEachAndAreClosed() throws {
        try ServerProcess.withServer(arguments: ["--tcp-idle-timeout", "3"]) { server in
            let residentBefore = Self.memoryKiB(of: server.pid, "VmRSS")
            let count = 50
            // A small receive buffer: the client's kernel takes few of the replies.
            let sockets = try (0..<count).map { _ in try AttackSocket(port: server.port, receiveBuffer: 4096) }
            let burst = try (0..<100).flatMap { try Self.query(id: UInt16($0)) }
            let floodEnd = monotonicSeconds() + 2
            while monotonicSeconds() < floodEnd {
                for socket in sockets { _ = socket.flood(burst) }
                sleep(seconds: 0.01)
            }
            let queues = try Self.serverSocketQueues(port: server.port)
            let resident = Self.memoryKiB(of: server.pid, "VmRSS")
            #expect(queues.count == count, "the server's connections: \(queues.count)")
            // Without the fixed buffer the kernel's autotuning lets this grow to 4 MiB.
            let largestSendQueue = queues.map(\.send).max() ?? 0
            #expect(largestSendQueue <= 64 * 1024, "the kernel holds \(largestSendQueue) bytes of replies for one client")
            // 48 KiB a client (32 KiB, a read's replies, and room for the allocator) and 2 MiB
            // for the rest of the server: 4.3 MiB. Without the cap the queues grow by
            // megabytes a second.
            // Under a sanitizer resident memory is mostly the sanitizer's (ThreadSanitizer's
            // shadow of every byte, AddressSanitizer's redzones and quarantine of freed
            // blocks), so it says nothing about the queues; the socket queues above and the
            // closing below are still checked.
            let growth = resident - residentBefore
            if IntegrationEnvironment.sanitizer == nil {
                #expect(growth < count * 48 + 2048, "resident memory grew by \(growth) KiB during the flood")
            }

            let deadline = monotonicSeconds() + 10
            var open = sockets.filter { !$0.isHungUp }.count
            while open > 0 && monotonicSeconds() < deadline {
                sleep(seconds: 0.2)
                open = sockets.filter { !$0.isHungUp }.count
            }
            #expect(open == 0, "\(open) of \(count) clients that never read are still connected")

            let client = try RawSocket(.tcp, to: .ipv4, port: server.port)
            try client.send(try Self.query(id: 0x5151))
            #expect(try Message(bytes: try client.receiveMessage()).header.id == 0x5151)
        }
    }

    /// The receive and send queues (bytes) of the server's established TCP connections on
    /// `port`, as `ss` reports them.
    static func serverSocketQueues(port: UInt16) throws -> [(receive: Int, send: Int)] {
        let output = try CommandRunner.run("/usr/bin/ss", ["-Htn", "state", "established", "( sport = :\(port) )"])
        try #require(output.status == 0, "ss: \(output.summary)")
        return output.standardOutput.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let receive = Int(fields[0]), let send = Int(fields[1]) else { return nil }
            return (receive, send)
        }
    }

    /// More connections than the server has descriptors: accept fails with EMFILE. The server
    /// closes its least recently used connection to make room and does not spin on the
    /// failing accept; the client is still answered.
    @Test func atItsOwnDescriptorLimitTheServerKeepsAnsweringWithoutSpinning() throws {
        try Self.raiseDescriptorLimit(to: 4096)
        try ServerProcess.withServer(arguments: ["--tcp-idle-timeout", "120", "--max-tcp-connections", "5000", "--workers", "1"]) {
            server in
            let lowered = try CommandRunner.run("/usr/bin/prlimit", ["--pid", "\(server.pid)", "--nofile=64:64"])
            try #require(lowered.status == 0, "prlimit: \(lowered.summary)")
            let sockets = try Self.attack(.idle, port: server.port, count: 300)
            sleep(seconds: 0.5)
            let before = Self.cpuSeconds(of: server.pid)
            sleep(seconds: 1)
            let used = Self.cpuSeconds(of: server.pid) - before
            #expect(used < 0.5, "the server used \(used) s of CPU in 1 s while its accepts failed: a busy loop")

            let client = try RawSocket(.tcp, to: .ipv4, port: server.port)
            try client.send(try Self.query(id: 0x6666))
            let reply = try Message(bytes: try client.receiveMessage(timeout: 10))
            #expect(reply.header.id == 0x6666)
            let udp = try RawSocket(.udp, to: .ipv4, port: server.port)
            #expect(try udp.exchange(try DNSQuery.bytes(id: 0x5555, name: "myws.coder", type: .aaaa)).header.id == 0x5555)
            let closed = sockets.filter { $0.isClosedByServer }.count
            #expect(closed > 0, "connections were closed to make room")
            #expect(server.standardError.contains("TCP accept failed"), "\(server.standardError)")
        }
    }

    /// A client that sends queries and never reads: once its replies fill the kernel's
    /// buffers the server stops reading from it (``TCPConnectionPolicy/outputHighWater``),
    /// and with no progress it is closed after the idle timeout. Its replies never pile up.
    @Test func aClientThatNeverReadsItsRepliesIsClosed() throws {
        try ServerProcess.withServer(arguments: ["--tcp-idle-timeout", "1"]) { server in
            let socket = try AttackSocket(port: server.port)
            var small: Int32 = 4096
            setsockopt(socket.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
            let burst = try (0..<500).flatMap { try Self.query(id: UInt16($0)) }
            var closed = false
            let deadline = monotonicSeconds() + 15
            while !closed && monotonicSeconds() < deadline {
                let sent = burst.withUnsafeBytes { Glibc.send(socket.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
                closed = sent < 0 && (errno == EPIPE || errno == ECONNRESET)
                sleep(seconds: 0.05)
            }
            #expect(closed, "the server still accepts queries from a client that reads nothing")
            let client = try RawSocket(.tcp, to: .ipv4, port: server.port)
            try client.send(try Self.query(id: 0x4444))
            #expect(try Message(bytes: try client.receiveMessage()).header.id == 0x4444)
        }
    }

    /// User plus system CPU time of `pid` (/proc/PID/stat, fields 14 and 15), in seconds.
    static func cpuSeconds(of pid: pid_t) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let end = text.lastIndex(of: ")")
        else { return 0 }
        let fields = text[text.index(after: end)...].split(separator: " ")
        // After the ")": state is field 3, so utime (14) and stime (15) are at 11 and 12.
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
