import DNSWire
import Testing

/// UDP replies fit in min(the client's payload size, 1232) bytes, 512 without EDNS; what does
/// not fit is sent with TC=1 and no records, and the client gets everything over TCP.
///
/// `many.coder` has 30 AAAA records (879 bytes with OPT): over 512, under 1232.
/// `huge.coder` has 50 (1439 bytes): over 1232, so TC=1 whatever the client offers.
@Suite("Truncation of large UDP answers")
struct UDPTruncationTests {
    static let many = IntegrationEnvironment.fixture("many-addresses-snapshot.json")
    static let huge = IntegrationEnvironment.fixture("huge-addresses-snapshot.json")

    @Test(arguments: LoopbackAddress.allCases)
    func thirtyAddressesWithoutEDNSAreTruncatedWithNoRecords(address: LoopbackAddress) throws {
        try ServerProcess.withServer(snapshot: Self.many) { server in
            let result = try server.dig("+noedns", "+ignore", "many.coder", "AAAA", over: address)
            #expect(result.status == "NOERROR", "\(result)")
            #expect(result.flags == ["qr", "aa", "tc"], "\(result)")
            #expect(result.counts["ANSWER"] == 0 && result.counts["AUTHORITY"] == 0 && result.counts["ADDITIONAL"] == 0, "\(result)")
            #expect(result.question.map(\.name) == ["many.coder."], "\(result)")
            #expect(result.opt == nil, "\(result)")
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func thirtyAddressesFitWithEDNS(address: LoopbackAddress) throws {
        try ServerProcess.withServer(snapshot: Self.many) { server in
            let result = try server.dig("+bufsize=1232", "+ignore", "many.coder", "AAAA", over: address)
            #expect(result.status == "NOERROR", "\(result)")
            #expect(result.flags == ["qr", "aa"], "\(result)")
            #expect(result.transport == "UDP", "\(result)")
            #expect(result.answer.count == 30, "\(result)")
            #expect(Set(result.answer.compactMap { ipv6Bytes($0.data) }).count == 30, "\(result)")
            #expect(result.opt?.udpSize == 1232, "\(result)")
        }
    }

    @Test func digRetriesATruncatedAnswerOverTCPAndGetsEveryAddress() throws {
        try ServerProcess.withServer(snapshot: Self.many) { server in
            let result = try server.dig("+noedns", "many.coder", "AAAA")
            #expect(result.retriedOverTCP, "\(result)")
            #expect(result.transport == "TCP", "\(result)")
            #expect(result.status == "NOERROR", "\(result)")
            #expect(!result.flags.contains("tc"), "\(result)")
            #expect(result.answer.count == 30, "\(result)")
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func fiftyAddressesAreTruncatedEvenWithEDNS(address: LoopbackAddress) throws {
        try ServerProcess.withServer(snapshot: Self.huge) { server in
            let result = try server.dig("+bufsize=1232", "+ignore", "huge.coder", "AAAA", over: address)
            #expect(result.status == "NOERROR", "\(result)")
            #expect(result.flags == ["qr", "aa", "tc"], "\(result)")
            #expect(result.counts["ANSWER"] == 0 && result.counts["AUTHORITY"] == 0, "\(result)")
            #expect(result.counts["ADDITIONAL"] == 1, "the OPT record is kept: \(result)")
            #expect(result.opt?.udpSize == 1232, "\(result)")
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func fiftyAddressesAllArriveOverTCP(address: LoopbackAddress) throws {
        try ServerProcess.withServer(snapshot: Self.huge) { server in
            let followed = try server.dig("huge.coder", "AAAA", over: address)
            #expect(followed.retriedOverTCP, "\(followed)")
            #expect(followed.status == "NOERROR", "\(followed)")
            #expect(followed.answer.count == 50, "\(followed)")
            #expect(Set(followed.answer.compactMap { ipv6Bytes($0.data) }).count == 50, "\(followed)")

            let direct = try server.kdig(["+tcp", "main.huge.me.coder", "AAAA"], over: address)
            #expect(direct.transport == "TCP", "\(direct)")
            #expect(!direct.flags.contains("tc"), "\(direct)")
            #expect(direct.answer.count == 50, "\(direct)")
        }
    }

    /// (advertised UDP payload size or nil for no OPT, name, whether it must be truncated)
    @Test(
        arguments: [
            (nil, "many.coder", true), (UInt16(100), "many.coder", true), (UInt16(511), "many.coder", true),
            (UInt16(900), "many.coder", false), (UInt16(65_535), "many.coder", false),
            (UInt16(1232), "huge.coder", true), (UInt16(4096), "huge.coder", true), (UInt16(65_535), "huge.coder", true),
        ] as [(UInt16?, String, Bool)])
    func aUDPReplyNeverExceedsTheSmallerOfTheClientsSizeAnd1232(payload: UInt16?, name: String, truncated: Bool) throws {
        let snapshot = name == "many.coder" ? Self.many : Self.huge
        try ServerProcess.withServer(snapshot: snapshot) { server in
            let socket = try RawSocket(.udp, to: .ipv4, port: server.port)
            try socket.send(try DNSQuery.bytes(id: 77, name: name, type: .aaaa, edns: payload.map { EDNS(udpPayloadSize: $0) }))
            let datagram = try socket.receiveDatagram(timeout: 2)
            let bytes = try #require(datagram, "no reply")
            let limit = payload.map { min(max(Int($0), 512), 1232) } ?? 512
            #expect(bytes.count <= limit)
            let reply = try Message(bytes: bytes)
            #expect(reply.header.id == 77)
            #expect(reply.rcode == .noError)
            #expect(reply.header.isTruncated == truncated)
            #expect(reply.answers.count == (truncated ? 0 : 30))
            #expect(reply.authority.isEmpty)
            #expect(reply.additional.count == (payload == nil ? 0 : 1))
        }
    }
}
