import DNSWire
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A reply the kernel refuses to send (`sendmmsg` fails for it) is skipped and counted; the
/// server goes on answering. The refusal is made real: a datagram from source port 0, written
/// through a raw socket, gets a reply that Linux will not send (`udp_sendmsg`: EINVAL for
/// destination port 0).
@Suite(
    "UDP replies the kernel refuses",
    .enabled(
        if: IntegrationEnvironment.isRoot || IntegrationEnvironment.rootTestsRequired,
        "needs root for a raw socket; CODERDNS_REQUIRE_ROOT_TESTS=1 makes this a failure"))
struct UDPSendFailureTests {
    /// Sends `payload` to 127.0.0.1:`port` in a UDP datagram from source port 0 (checksum 0:
    /// none, which IPv4 allows).
    static func sendFromPortZero(_ payload: [UInt8], port: UInt16) throws {
        let fd = socket(AF_INET, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_UDP))
        guard fd >= 0 else { throw SocketError("socket(SOCK_RAW)") }
        defer { close(fd) }
        let length = 8 + payload.count
        let header: [UInt8] = [
            0, 0,  // source port 0
            UInt8(port >> 8), UInt8(port & 0xFF),  // destination port
            UInt8(length >> 8), UInt8(length & 0xFF),  // length: header and payload
            0, 0,  // checksum: none
        ]
        let datagram = header + payload
        let sent = LoopbackAddress.ipv4.withSockaddr(port: 0) { address, size in
            datagram.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, address, size) }
        }
        guard sent == datagram.count else { throw SocketError("sendto(SOCK_RAW)") }
    }

    @Test func aReplyThatCannotBeSentIsCountedAndTheServerGoesOnAnswering() throws {
        let server = try ServerProcess.serve(arguments: ["--workers", "1"])
        defer { server.stop() }
        for id in 0..<3 {
            try Self.sendFromPortZero(try DNSQuery.bytes(id: UInt16(id), name: "myws.coder", type: .aaaa), port: server.port)
        }
        // Queries after (and so in the same or a later batch) are answered.
        let socket = try RawSocket(.udp, to: .ipv4, port: server.port)
        for id in 10..<20 {
            #expect(try socket.exchange(try DNSQuery.bytes(id: UInt16(id), name: "myws.coder", type: .aaaa)).rcode == .noError)
        }
        server.stop()
        let lines = server.standardErrorLines
        let stopped = lines.first { $0.hasSuffix(" stopped") } ?? ""
        #expect(stopped.contains("udp_send_failures=3"), "\(lines)")
        #expect(lines.contains { $0.contains("UDP replies the kernel refused to send") && $0.contains("count=3") }, "\(lines)")
    }
}
