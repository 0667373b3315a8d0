import DNSWire
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A UDP-only stand-in for "some other DNS server" on 127.0.0.1: it answers every query
/// with what `reply` makes of it, on a thread of its own, until ``stop()``.
final class DoctorFakeServer: @unchecked Sendable {
    let port: UInt16
    private let fd: Int32
    private let thread: Thread
    /// Set by ``stop()``, read by the thread between polls.
    private let stopped = StopFlag()

    private final class StopFlag: Sendable {
        let isSet = Atomic<Bool>(false)
    }

    init(reply: @escaping @Sendable (Message) -> Message) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: errno \(errno)") }
        var bound: UInt16?
        for _ in 0..<8 {
            let port = IntegrationEnvironment.nextPort()
            let result = LoopbackAddress.ipv4.withSockaddr(port: port) { bind(fd, $0, $1) }
            if result == 0 {
                bound = port
                break
            }
        }
        guard let port = bound else {
            close(fd)
            throw HarnessError("no free UDP port for the fake server")
        }
        self.fd = fd
        self.port = port
        let stopped = self.stopped
        thread = Thread {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while !stopped.isSet.load(ordering: .relaxed) {
                var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&entry, 1, 50) > 0 else { continue }
                var peer = sockaddr_storage()
                var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let count = buffer.withUnsafeMutableBytes { raw in
                    withUnsafeMutablePointer(to: &peer) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &peerLength) }
                    }
                }
                guard count > 0, let query = try? Message(bytes: Array(buffer[0..<count])) else { continue }
                let answer = reply(query).bytes
                _ = answer.withUnsafeBytes { raw in
                    withUnsafePointer(to: &peer) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, raw.baseAddress, raw.count, 0, $0, peerLength) }
                    }
                }
            }
            close(fd)
        }
        thread.start()
    }

    deinit { stop() }

    func stop() { stopped.isSet.store(true, ordering: .relaxed) }
}
