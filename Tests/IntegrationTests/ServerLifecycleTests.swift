import DNSWire
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Starting with bad input fails fast with one line on stderr; SIGTERM stops cleanly.
@Suite("Starting and stopping the server")
struct ServerLifecycleTests {
    struct BadStateFile: Sendable, CustomStringConvertible {
        let file: String
        /// Words the one error line must contain besides the file's path.
        let problem: String
        var description: String { file }
        var path: String { file.hasPrefix("/") ? file : IntegrationEnvironment.fixture(file) }
    }

    static let badStateFiles = [
        BadStateFile(file: "bad-state-not-json.json", problem: "not valid JSON"),
        BadStateFile(file: "bad-state-bad-uuid.json", problem: "workspaces[0].agents[0].id: \"not-a-uuid\" is not a UUID"),
        BadStateFile(file: "bad-state-duplicate-agent-id.json", problem: "workspaces[1].agents[0].id: duplicate agent id"),
        BadStateFile(file: "bad-state-duplicate-workspace-id.json", problem: "workspaces[1].id: duplicate workspace id"),
        BadStateFile(file: "/nonexistent/coderdns-state.json", problem: "cannot read the file"),
    ]

    /// Runs `coderdns` with `arguments`, expecting it to exit by itself within 5 seconds.
    static func runToExit(_ arguments: [String]) throws -> (ending: ChildProcess.Ending?, lines: [String], server: ServerProcess) {
        let server = try ServerProcess(executable: IntegrationEnvironment.binary, arguments: arguments, port: 0)
        let ending = server.waitForExit(timeout: 5)
        server.stop()
        return (ending, server.standardErrorLines, server)
    }

    @Test(arguments: badStateFiles)
    func aBadStateFileStopsStartupWithStatus2AndOneLineNamingFileAndProblem(_ bad: BadStateFile) throws {
        let port = IntegrationEnvironment.nextPort()
        let run = try Self.runToExit(["serve", "--snapshot", bad.path, "--owner", "alice", "--listen", "127.0.0.1:\(port)"])
        #expect(run.ending == .exited(2), "\(run.server.endDescription); stderr: \(run.lines)")
        #expect(run.lines.count == 1, "\(run.lines)")
        let line = run.lines.first ?? ""
        #expect(line.hasPrefix("coderdns: \(bad.path): "), "\(line)")
        #expect(line.contains(bad.problem), "\(line)")
    }

    @Test(arguments: [
        (["serve", "--listen", "nonsense"], "nonsense"),
        (["serve", "--listen", "[::1]:99999"], "99999"),
        (["serve", "--bogus"], "--bogus"),
        (["serve", "--tcp-idle-timeout", "0"], "--tcp-idle-timeout"),
        (["serve", "--log-level", "loud"], "--log-level"),
        (["serve", "--owner", "not a label", "--listen", "127.0.0.1:1"], "not a label"),
        (["serve", "--coder-url", "ftp://coder.example.com"], "must start with https:// or http://"),
        (["serve", "--coder", "--control-plane", "127.0.0.1:1"], "pick one"),
        (["serve", "--session-token-file", "/nonexistent/token"], "need --coder"),
        // Issue 13: a host name passed validation, then every dial failed and names stayed SERVFAIL.
        (["serve", "--control-plane", "coder.example.com:443", "--listen", "127.0.0.1:1"], "\"coder.example.com\" is not an IPv4 address"),
        // Issue 13: a cache with nothing to update it served its last state forever.
        (["serve", "--state-dir", "/nonexistent/state", "--listen", "127.0.0.1:1"], "--state-dir need --coder or --control-plane"),
        (
            ["serve", "--coder-url", "https://127.0.0.1:1", "--session-token-file", "/nonexistent/token", "--listen", "127.0.0.1:1"],
            "/nonexistent/token"
        ),
    ])
    func aBadFlagStopsStartupWithOneLine(arguments: [String], mention: String) throws {
        let run = try Self.runToExit(arguments)
        let ending = try #require(run.ending, "still running after 5 s")
        #expect(ending != .exited(0) && ending != .exited(-1), "\(ending): \(run.lines)")
        if case .signaled = ending { Issue.record("killed by a signal, not an orderly exit: \(ending)") }
        #expect(run.lines.count == 1, "\(run.lines)")
        #expect(run.lines.first?.hasPrefix("coderdns: ") == true, "\(run.lines)")
        #expect(run.lines.first?.contains(mention) == true, "\(run.lines)")
    }

    @Test func sigtermStopsTheServerWithStatus0() throws {
        let server = try ServerProcess.serve()
        defer { server.stop() }
        let answer = try server.dig("myws.coder", "AAAA")
        #expect(answer.status == "NOERROR", "\(answer)")
        server.send(signal: SIGTERM)
        let ending = server.waitForExit(timeout: 3)
        #expect(ending == .exited(0), "\(server.endDescription); stderr:\n\(server.standardError)")
        #expect(server.standardErrorLines.last?.hasSuffix(" stopped") == true, "\(server.standardError)")
    }

    @Test func logFormatJSONWritesOneObjectALineWithTimeLevelAndMessage() throws {
        let port = IntegrationEnvironment.nextPort()
        let server = try ServerProcess(
            executable: IntegrationEnvironment.binary,
            arguments: [
                "serve", "--owner", "alice", "--listen", "127.0.0.1:\(port)", "--snapshot", IntegrationEnvironment.demoSnapshot,
                "--log-format", "json",
            ], port: port)
        defer { server.stop() }
        #expect(ControlPlaneIntegrationTests.waitFor(port, "myws.coder", .noError))
        server.send(signal: SIGTERM)
        #expect(server.waitForExit(timeout: 3) == .exited(0))
        let lines = server.standardErrorLines
        #expect(lines.count >= 3, "\(lines)")
        for line in lines {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            #expect(object?["time"] is String && object?["level"] is String && object?["message"] is String, "\(line)")
        }
        #expect(lines.contains { $0.contains(#""message":"serving""#) && $0.contains(#""listen":"127.0.0.1:\#(port)""#) })
    }

    /// systemd's `Type=notify`: READY=1 (and a STATUS line) on `$NOTIFY_SOCKET` once the sockets
    /// are open and the starting state is served; STOPPING=1 on SIGTERM. The test is systemd.
    @Test func readinessIsNotifiedOnTheNotifySocket() throws {
        let path = try IntegrationEnvironment.makeTemporaryDirectory().appendingPathComponent("notify").path
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(bound == 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
        }
        let server = try ServerProcess.serve(environment: ["NOTIFY_SOCKET": path])
        defer { server.stop() }
        let ready = receive()
        #expect(ready.split(separator: "\n").contains("READY=1"), "\(ready)")
        #expect(ready.contains("STATUS=serving 8 names from \(IntegrationEnvironment.demoSnapshot)"), "\(ready)")
        server.send(signal: SIGTERM)
        #expect(receive() == "STOPPING=1")
        #expect(server.waitForExit(timeout: 3) == .exited(0))
    }

    /// SIGTERM while a client has pipelined queries: every query the server had read is
    /// answered (the replies still queued are sent before the sockets close), then exit 0.
    @Test func sigtermDuringPipelinedTCPQueriesAnswersEveryQueryAlreadyRead() throws {
        let server = try ServerProcess.serve()
        defer { server.stop() }
        let tcp = try RawSocket(.tcp, to: .ipv4, port: server.port)
        var batch: [UInt8] = []
        for id in 1...300 { batch += DNSQuery.framed(try DNSQuery.bytes(id: UInt16(id), name: "myws.coder", type: .aaaa)) }
        try tcp.send(batch)
        _ = try tcp.receiveMessage()
        server.send(signal: SIGTERM)
        var received = 1
        while (try? tcp.receiveMessage(timeout: 3)) != nil { received += 1 }
        #expect(server.waitForExit(timeout: 3) == .exited(0), "\(server.endDescription)")
        // What the server says it answered over TCP, all of which the client must have.
        let stopped = server.standardErrorLines.last { $0.hasSuffix(" stopped") } ?? ""
        let answered = stopped.firstRange(of: "tcp=QueryCounters(noError: ").map { range in
            Int(stopped[range.upperBound...].prefix { $0.isNumber }) ?? -1
        }
        #expect(answered == received, "the server answered \(answered ?? -1), the client got \(received): \(server.standardError)")
        #expect(received > 1)
    }

    /// A server confined to one CPU (here by taskset) runs one worker unless told otherwise:
    /// a second event loop on the same CPU would only cost switches.
    @Test func theDefaultWorkerCountFollowsTheCPUsTheProcessMayUse() throws {
        let port = IntegrationEnvironment.nextPort()
        let server = try ServerProcess(
            executable: "/usr/bin/taskset",
            arguments: [
                "-c", "0", IntegrationEnvironment.binary, "serve", "--owner", "alice", "--listen", "127.0.0.1:\(port)", "--snapshot",
                IntegrationEnvironment.demoSnapshot,
            ], port: port)
        defer { server.stop() }
        #expect(server.waitForLogLine(where: ServerProcess.isServingLine))
        #expect(server.standardErrorLines.contains { $0.hasSuffix(" serving") && $0.contains("workers=1 ") }, "\(server.standardError)")
    }

    /// A parent may start the server with signals blocked (Foundation's `Process` does, from a
    /// Dispatch thread); blocked signals survive exec. A server that stops on SIGTERM and
    /// reloads on SIGHUP has to unblock them itself.
    @Test func sigtermStopsTheServerEvenWhenItsParentHadSignalsBlocked() throws {
        let server = try ServerProcess.serve(blockedSignals: [SIGTERM, SIGHUP, SIGINT])
        defer { server.stop() }
        server.send(signal: SIGTERM)
        let ending = server.waitForExit(timeout: 3)
        #expect(ending == .exited(0), "\(server.endDescription) 3 s after SIGTERM; stderr:\n\(server.standardError)")
    }

    @Test func sigintStopsTheServerWithStatus0LikeSIGTERM() throws {
        let server = try ServerProcess.serve()
        defer { server.stop() }
        #expect(try ControlPlaneIntegrationTests.reply(server.port, "myws.coder").rcode == .noError)
        server.send(signal: SIGINT)
        let ending = server.waitForExit(timeout: 3)
        #expect(ending == .exited(0), "\(server.endDescription); stderr:\n\(server.standardError)")
        #expect(server.standardErrorLines.last?.hasSuffix(" stopped") == true, "\(server.standardError)")
    }

    /// Starts `coderdns serve` with the demo state on the `--listen` addresses `listens`
    /// makes of a free port, and returns once it logs that it serves.
    static func serve(listening listens: (UInt16) -> [String]) throws -> ServerProcess {
        for _ in 0..<8 {
            let port = IntegrationEnvironment.nextPort()
            let arguments =
                ["serve", "--owner", "alice", "--snapshot", IntegrationEnvironment.demoSnapshot] + listens(port).flatMap { ["--listen", $0] }
            let server = try ServerProcess(executable: IntegrationEnvironment.binary, arguments: arguments, port: port)
            if server.waitForLogLine(where: ServerProcess.isServingLine) && server.isRunning { return server }
            server.stop()
            guard server.standardError.contains("Address already in use") else {
                throw HarnessError("coderdns \(arguments.joined(separator: " ")): \(server.endDescription); stderr:\n\(server.standardError)")
            }
        }
        throw HarnessError("no free port for coderdns after 8 attempts")
    }

    /// A UDP query for myws.coder from an IPv6 socket to `address` (text) port `port`; the
    /// reply's RCODE, or nil when none comes within half a second.
    static func queryFromIPv6Socket(to address: String, port: UInt16) throws -> RCode? {
        let fd = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        defer { close(fd) }
        var destination = sockaddr_in6()
        destination.sin6_family = sa_family_t(AF_INET6)
        destination.sin6_port = port.bigEndian
        guard inet_pton(AF_INET6, address, &destination.sin6_addr) == 1 else { throw HarnessError("not an IPv6 address: \(address)") }
        let query = try DNSQuery.bytes(id: 0x6666, name: "myws.coder", type: .aaaa)
        let sent = withUnsafePointer(to: &destination) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                query.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, address, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        }
        guard sent == query.count else { throw SocketError("sendto") }
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 500) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return try Message(bytes: Array(buffer[0..<count])).rcode
    }

    /// IPv6 listeners are V6ONLY: `0.0.0.0:P` and `[::]:P` bind side by side, each answering
    /// its own family.
    @Test func theIPv4AndIPv6WildcardsBindSideBySide() throws {
        let server = try Self.serve { ["0.0.0.0:\($0)", "[::]:\($0)"] }
        defer { server.stop() }
        #expect(
            try RawSocket(.udp, to: .ipv4, port: server.port).exchange(try DNSQuery.bytes(id: 1, name: "myws.coder", type: .aaaa)).rcode == .noError)
        #expect(
            try RawSocket(.udp, to: .ipv6, port: server.port).exchange(try DNSQuery.bytes(id: 2, name: "myws.coder", type: .aaaa)).rcode == .noError)
        #expect(try Self.queryFromIPv6Socket(to: "::ffff:127.0.0.1", port: server.port) == .noError, "answered by the IPv4 listener")
        #expect(server.isRunning, "\(server.standardError)")
    }

    /// With `[::]:P` alone, IPv4 (an IPv4-mapped address, or 127.0.0.1 itself) does not reach
    /// it: a dual-stack socket would answer both.
    @Test func anIPv6ListenerDoesNotAnswerIPv4MappedQueries() throws {
        let server = try Self.serve { ["[::]:\($0)"] }
        defer { server.stop() }
        #expect(try Self.queryFromIPv6Socket(to: "::1", port: server.port) == .noError, "\(server.standardError)")
        #expect(try Self.queryFromIPv6Socket(to: "::ffff:127.0.0.1", port: server.port) == nil, "an IPv4-mapped query was answered")
        #expect(throws: (any Error).self, "a TCP connection to 127.0.0.1 was accepted") { try RawSocket(.tcp, to: .ipv4, port: server.port) }
        #expect(server.isRunning, "\(server.standardError)")
    }
}
