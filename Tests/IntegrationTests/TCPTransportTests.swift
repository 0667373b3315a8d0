import DNSWire
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// RFC 7766 behaviour over raw TCP sockets: pipelining, split reads, idle timeout,
/// half-close and the connection cap (eviction).
@Suite("TCP connections")
struct TCPTransportTests {
    /// Queries whose answers differ, so a reply shows which query it belongs to.
    static let pipeline: [(id: UInt16, name: String, type: RecordType, rcode: RCode, answers: Int)] = [
        (0x0101, "main.myws.me.coder", .aaaa, .noError, 1),
        (0x0202, "nope.coder", .aaaa, .nameError, 0),
        (0x0303, "alice.coder", .aaaa, .noError, 0),
        (0x0404, "coder", .ns, .noError, 1),
        (0x0505, "example.com", .aaaa, .refused, 0),
        (0x0606, "gpu.dev.alice.coder", .aaaa, .noError, 1),
    ]

    static func pipelinedBytes() throws -> [UInt8] {
        try pipeline.flatMap { DNSQuery.framed(try DNSQuery.bytes(id: $0.id, name: $0.name, type: $0.type)) }
    }

    static func expectPipelineReplies(_ socket: RawSocket) throws {
        for query in pipeline {
            let reply = try Message(bytes: try socket.receiveMessage())
            #expect(reply.header.id == query.id, "replies come in query order")
            #expect(reply.rcode == query.rcode, "\(query.name)")
            #expect(reply.answers.count == query.answers, "\(query.name)")
            let name = try DomainName(query.name)
            #expect(reply.questions.first?.name == name)
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func pipelinedQueriesInOneWriteAreAllAnsweredInOrder(address: LoopbackAddress) throws {
        try ServerProcess.withServer { server in
            let socket = try RawSocket(.tcp, to: address, port: server.port)
            try socket.send(try Self.pipelinedBytes())
            try Self.expectPipelineReplies(socket)
            // The connection stays open for more.
            try socket.send(DNSQuery.framed(try DNSQuery.bytes(id: 0x0707, name: "myws.coder", type: .aaaa)))
            let reply = try Message(bytes: try socket.receiveMessage())
            #expect(reply.header.id == 0x0707)
            #expect(reply.answerAddresses == [ipv6(Demo.mywsMain)])
        }
    }

    /// Split after 1 byte (inside the length prefix), after 2 (prefix whole, message not
    /// begun), and after 9 (inside the header).
    @Test(arguments: [1, 2, 9])
    func aQuerySplitAcrossTwoWritesIsAnsweredOnceComplete(splitAfter: Int) throws {
        try ServerProcess.withServer { server in
            let socket = try RawSocket(.tcp, to: .ipv4, port: server.port)
            let framed = DNSQuery.framed(try DNSQuery.bytes(id: 0x5151, name: "main.myws.alice.coder", type: .aaaa))
            try socket.send(Array(framed[..<splitAfter]))
            let early = socket.readSome(timeout: 0.3)
            #expect(early == .timedOut, "no reply to an incomplete message: \(early)")
            try socket.send(Array(framed[splitAfter...]))
            let reply = try Message(bytes: try socket.receiveMessage())
            #expect(reply.header.id == 0x5151)
            #expect(reply.rcode == .noError)
            #expect(reply.answerAddresses == [ipv6(Demo.mywsMain)])
        }
    }

    @Test func aWriteEndingInsideTheNextLengthPrefixIsAnsweredUpToTheCompleteQuery() throws {
        try ServerProcess.withServer { server in
            let socket = try RawSocket(.tcp, to: .ipv4, port: server.port)
            let first = DNSQuery.framed(try DNSQuery.bytes(id: 1, name: "myws.coder", type: .aaaa))
            let second = DNSQuery.framed(try DNSQuery.bytes(id: 2, name: Demo.sentinel, type: .aaaa))
            try socket.send(first + second[..<1])
            let firstReply = try Message(bytes: try socket.receiveMessage())
            #expect(firstReply.header.id == 1)
            sleep(seconds: 0.2)
            try socket.send(Array(second[1...]))
            let secondReply = try Message(bytes: try socket.receiveMessage())
            #expect(secondReply.header.id == 2)
            #expect(secondReply.answerAddresses == [ipv6(Demo.serviceAddress)])
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func anIdleConnectionIsClosedAfterTheIdleTimeout(address: LoopbackAddress) throws {
        try ServerProcess.withServer(arguments: ["--tcp-idle-timeout", "1"]) { server in
            let socket = try RawSocket(.tcp, to: address, port: server.port)
            let start = monotonicSeconds()
            let outcome = socket.waitForClose(timeout: 3)
            let elapsed = monotonicSeconds() - start
            #expect(outcome == .closed)
            #expect(elapsed >= 0.8, "closed after \(elapsed) s, before the 1 s timeout")
        }
    }

    @Test func aConnectionThatKeepsAskingOutlivesTheIdleTimeout() throws {
        try ServerProcess.withServer(arguments: ["--tcp-idle-timeout", "1"]) { server in
            let socket = try RawSocket(.tcp, to: .ipv4, port: server.port)
            // 2.5 s on one connection, never 1 s quiet: every query is answered on it.
            for id in UInt16(1)...5 {
                sleep(seconds: 0.5)
                try socket.send(DNSQuery.framed(try DNSQuery.bytes(id: id, name: "myws.coder", type: .aaaa)))
                let reply = try Message(bytes: try socket.receiveMessage())
                #expect(reply.header.id == id)
            }
            // Once quiet, it is closed.
            #expect(socket.waitForClose(timeout: 3) == .closed)
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func aClientThatHalfClosesStillGetsEveryAnswer(address: LoopbackAddress) throws {
        try ServerProcess.withServer { server in
            let socket = try RawSocket(.tcp, to: address, port: server.port)
            try socket.send(try Self.pipelinedBytes())
            try socket.shutdownWrite()
            try Self.expectPipelineReplies(socket)
            #expect(socket.waitForClose(timeout: 3) == .closed, "the server closes once every answer is sent")
        }
    }

    /// At the cap a new connection is served and the one whose last complete query is
    /// oldest is closed (docs/behaviour.md; TCPAbuseTests attacks it with 1,000).
    @Test func atTheCapANewConnectionIsServedAndTheLeastRecentlyUsedOneIsClosed() throws {
        try ServerProcess.withServer(arguments: ["--max-tcp-connections", "2"]) { server in
            var served: [RawSocket] = []
            for id in UInt16(1)...2 {
                let socket = try RawSocket(.tcp, to: .ipv4, port: server.port)
                try socket.send(DNSQuery.framed(try DNSQuery.bytes(id: id, name: "myws.coder", type: .aaaa)))
                let reply = try Message(bytes: try socket.receiveMessage())
                #expect(reply.header.id == id)
                served.append(socket)
                sleep(seconds: 0.05)
            }
            // Past the 1 s in which a new connection ranks as having just made progress
            // (TCPConnectionPolicy.newConnectionGrace): from here progress alone counts.
            sleep(seconds: 1.1)
            // The first asks again: now the second is the least recently used.
            try served[0].send(DNSQuery.framed(try DNSQuery.bytes(id: 11, name: "myws.coder", type: .aaaa)))
            #expect(try Message(bytes: try served[0].receiveMessage()).header.id == 11)
            sleep(seconds: 0.05)

            let third = try RawSocket(.tcp, to: .ipv4, port: server.port)
            try third.send(DNSQuery.framed(try DNSQuery.bytes(id: 3, name: "myws.coder", type: .aaaa)))
            #expect(try Message(bytes: try third.receiveMessage()).header.id == 3, "a third connection is served")
            let outcome = served[1].waitForClose(timeout: 2)
            #expect(outcome == .closed || outcome == .failed(errno: ECONNRESET), "the least recently used one is closed: \(outcome)")

            // The first is still served.
            try served[0].send(DNSQuery.framed(try DNSQuery.bytes(id: 12, name: "myws.coder", type: .aaaa)))
            #expect(try Message(bytes: try served[0].receiveMessage()).header.id == 12)
        }
    }

    /// For 1 s after it connects, a connection ranks as if it had just made progress
    /// (docs/behaviour.md): one that has not asked yet is not closed to make room for
    /// another while an older connection is open, even one that asked since.
    @Test func aNewConnectionThatHasNotAskedYetIsNotTheOneClosedToMakeRoom() throws {
        try ServerProcess.withServer(arguments: ["--max-tcp-connections", "2"]) { server in
            let older = try RawSocket(.tcp, to: .ipv4, port: server.port)
            try older.send(DNSQuery.framed(try DNSQuery.bytes(id: 1, name: "myws.coder", type: .aaaa)))
            #expect(try Message(bytes: try older.receiveMessage()).header.id == 1)
            let quiet = try RawSocket(.tcp, to: .ipv4, port: server.port)
            sleep(seconds: 0.05)
            try older.send(DNSQuery.framed(try DNSQuery.bytes(id: 2, name: "myws.coder", type: .aaaa)))
            #expect(try Message(bytes: try older.receiveMessage()).header.id == 2)

            let third = try RawSocket(.tcp, to: .ipv4, port: server.port)
            try third.send(DNSQuery.framed(try DNSQuery.bytes(id: 3, name: "myws.coder", type: .aaaa)))
            #expect(try Message(bytes: try third.receiveMessage()).header.id == 3)
            let outcome = older.waitForClose(timeout: 2)
            #expect(outcome == .closed || outcome == .failed(errno: ECONNRESET), "the older connection is closed: \(outcome)")

            try quiet.send(DNSQuery.framed(try DNSQuery.bytes(id: 4, name: "myws.coder", type: .aaaa)))
            #expect(try Message(bytes: try quiet.receiveMessage()).header.id == 4, "the new one is still served")
        }
    }
}
