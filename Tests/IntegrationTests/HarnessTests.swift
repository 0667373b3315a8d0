import ControlPlane
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("The test harness itself")
struct HarnessTests {
    /// Regression (a flaky `--max-stale` test, seen under `scripts/sanitize`): children
    /// inherited the test process's descriptors, the stand-in's accepted connection among
    /// them, so a child that a test running in parallel started at that moment kept the
    /// connection open, and the server never saw `drop()` end it.
    @Test func aDroppedConnectionEndsForThePeerWhileAnotherTestsChildRuns() throws {
        let controlPlane = try ControlPlaneStandIn()
        let client = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(client >= 0)
        defer { close(client) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(controlPlane.path.utf8) + [0]) }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(connected == 0)
        let request = DelimitedFramer.frame([0x0A, 0x00])
        try #require(request.withUnsafeBytes { send(client, $0.baseAddress, $0.count, 0) } == request.count)
        let connection = try controlPlane.accept()

        // What another test may do at any moment: start a process that outlives the drop.
        let bystander = try ChildProcess(executable: "/bin/sleep", arguments: ["10"])
        defer { bystander.stop() }
        connection.drop()

        var poller = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
        var byte: UInt8 = 0
        let ended = poll(&poller, 1, 2000) == 1 && recv(client, &byte, 1, 0) == 0
        #expect(ended, "the connection stayed open after drop() while a child ran")
    }
}
