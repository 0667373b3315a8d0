import Glibc
import Synchronization
import Testing

@testable import EventIO

/// The UDP socket with a thread of its own, over real loopback sockets.
@Suite("UDP read by a thread of its own")
struct UDPReaderThreadTests {
    /// Replies with the request's bytes reversed; an empty reply for a request starting "drop".
    /// Counts batches and datagrams (read once the reader has stopped: its join orders them).
    final class Reversing: DatagramHandler, @unchecked Sendable {
        var batches = 0
        var datagrams = 0
        var largestBatch = 0
        private var current = 0

        func beginBatch() {
            batches += 1
            current = 0
        }

        func handle(_ request: UnsafeRawBufferPointer, reply: UnsafeMutableRawBufferPointer) -> Int {
            datagrams += 1
            current += 1
            if request.starts(with: Array("drop".utf8)) { return 0 }
            for (index, byte) in request.reversed().enumerated() { reply[index] = byte }
            return request.count
        }

        func endBatch() { largestBatch = max(largestBatch, current) }
    }

    /// A client socket on 127.0.0.1 with a receive timeout.
    struct Client: ~Copyable {
        let fd: Int32
        let port: UInt16

        init(to port: UInt16, timeoutMilliseconds: Int = 2000) throws {
            fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            try #require(fd >= 0)
            var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            self.port = port
        }

        deinit { close(fd) }

        func send(_ bytes: [UInt8]) {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = port.bigEndian
            address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
            let sent = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                    bytes.withUnsafeBytes { buffer in
                        sendto(fd, buffer.baseAddress, buffer.count, 0, target, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            #expect(sent == bytes.count)
        }

        /// The next datagram, or nil after the timeout.
        func receive() -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: 2048)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count < 0 ? nil : Array(buffer[0..<count])
        }
    }

    static func reader(_ handler: Reversing) throws -> UDPReaderThread {
        try UDPReaderThread(address: try SocketAddress("127.0.0.1:0"), handler: handler, batchSize: 8, receiveSize: 512, replySize: 512)
    }

    @Test func everyDatagramIsAnsweredToItsSender() throws {
        let handler = Reversing()
        let reader = try Self.reader(handler)
        try reader.start()
        let client = try Client(to: reader.localPort)
        for index in 0..<200 {
            let request = Array("query \(index)".utf8)
            client.send(request)
            #expect(client.receive() == request.reversed())
        }
        reader.stop()
        #expect(handler.datagrams == 200)
        #expect(reader.sendFailures == 0)
    }

    /// Datagrams queued while the thread was not reading come in batches of the batch size (one
    /// receive takes every queued datagram it has room for), not one wake-up each.
    @Test func queuedDatagramsAreReadInBatches() throws {
        let handler = Reversing()
        let reader = try Self.reader(handler)
        let client = try Client(to: reader.localPort)
        for index in 0..<40 { client.send(Array("queued \(index)".utf8)) }
        try reader.start()
        var replies = Set<[UInt8]>()
        for _ in 0..<40 { if let reply = client.receive() { replies.insert(reply) } }
        reader.stop()
        #expect(replies == Set((0..<40).map { Array("queued \($0)".utf8).reversed() }))
        #expect(handler.datagrams == 40)
        #expect(handler.largestBatch == 8)
        #expect(handler.batches == 5)
    }

    @Test func anEmptyReplyIsNotSentAndLaterOnesAre() throws {
        let handler = Reversing()
        let reader = try Self.reader(handler)
        try reader.start()
        let client = try Client(to: reader.localPort, timeoutMilliseconds: 300)
        client.send(Array("drop this".utf8))
        #expect(client.receive() == nil)
        client.send(Array("keep".utf8))
        #expect(client.receive() == Array("peek".utf8))
        reader.stop()
        #expect(handler.datagrams == 2)
    }

    /// A thread asleep in its receive wakes for stop() at once, and nothing is answered after.
    @Test func anIdleReaderStopsAtOnceAndAnswersNothingAfter() throws {
        let handler = Reversing()
        let reader = try Self.reader(handler)
        try reader.start()
        let client = try Client(to: reader.localPort, timeoutMilliseconds: 300)
        client.send(Array("before".utf8))
        #expect(client.receive() == Array("erofeb".utf8))
        usleep(50_000)
        let started = EventLoop.monotonicNow()
        reader.stop()
        #expect(EventLoop.monotonicNow() - started < 0.5)
        client.send(Array("after".utf8))
        #expect(client.receive() == nil)
        #expect(handler.datagrams == 1)
    }

    /// Stopping while datagrams keep arriving: the thread leaves between batches.
    @Test func aBusyReaderStops() throws {
        let handler = Reversing()
        let reader = try Self.reader(handler)
        try reader.start()
        let port = reader.localPort
        let sending = Atomic<Bool>(true)
        let sender = try WorkerThread(for: "a test's sender") {
            guard let client = try? Client(to: port, timeoutMilliseconds: 1) else { return }
            var index = 0
            while sending.load(ordering: .relaxed) {
                client.send(Array("load \(index)".utf8))
                index += 1
                _ = client.receive()
            }
        }
        usleep(100_000)
        let started = EventLoop.monotonicNow()
        reader.stop()
        #expect(EventLoop.monotonicNow() - started < 0.5)
        sending.store(false, ordering: .relaxed)
        sender.join()
        #expect(handler.datagrams > 0)
    }
}
