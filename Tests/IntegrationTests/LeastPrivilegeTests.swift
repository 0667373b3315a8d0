import DNSWire
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Issue 11, item 5: `--user`/`--group` after binding, and the start-up refusals of state
/// directories and token files that others can write.
@Suite("Least privilege")
struct LeastPrivilegeTests {
    /// The `Key:` lines of /proc/PID/status (or of one thread's, /proc/PID/task/TID/status).
    static func status(_ path: String) throws -> [String: String] {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return fields
    }

    /// Each thread of `pid` with the fields of its status file. A thread that ends between the
    /// listing and the read is left out: it holds nothing any more. The server starts short-lived
    /// threads (one returns freed memory after start-up; reloads and control-socket requests
    /// have their own). Any other failure to read is thrown.
    static func threads(of pid: pid_t) throws -> [(task: String, fields: [String: String])] {
        let directory = "/proc/\(pid)/task"
        return try FileManager.default.contentsOfDirectory(atPath: directory).sorted().compactMap { task in
            let path = "\(directory)/\(task)/status"
            do {
                return (task, try status(path))
            } catch  where !FileManager.default.fileExists(atPath: path) {
                return nil
            }
        }
    }

    static func ids(_ field: String?) -> [String] {
        (field ?? "").split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    }

    @Test(
        .enabled(
            if: IntegrationEnvironment.isRoot || IntegrationEnvironment.rootTestsRequired,
            "needs root to drop privileges; CODERDNS_REQUIRE_ROOT_TESTS=1 makes this a failure"))
    func startedAsRootWithUserNobodyEveryThreadRunsAsNobodyWithNoCapabilityAndItStillAnswers() throws {
        try #require(IntegrationEnvironment.isRoot, "CODERDNS_REQUIRE_ROOT_TESTS=1, but the tests do not run as root")
        let nobody = try #require(getpwnam("nobody"), "no user nobody")
        let uid = String(nobody.pointee.pw_uid)
        let gid = String(nobody.pointee.pw_gid)
        try ServerProcess.withServer(arguments: ["--user", "nobody", "--workers", "2"]) { server in
            #expect(server.standardError.contains("dropped privileges"), "\(server.standardError)")
            let threads = try Self.threads(of: server.pid)
            #expect(threads.count >= 2, "worker threads: \(threads.map(\.task))")
            for (task, fields) in threads {
                #expect(Self.ids(fields["Uid"]) == [uid, uid, uid, uid], "thread \(task): Uid \(fields["Uid"] ?? "-")")
                #expect(Self.ids(fields["Gid"]) == [gid, gid, gid, gid], "thread \(task): Gid \(fields["Gid"] ?? "-")")
                #expect(Self.ids(fields["Groups"]).isEmpty, "thread \(task): Groups \(fields["Groups"] ?? "-")")
                for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
                    #expect(fields[set] == "0000000000000000", "thread \(task): \(set) \(fields[set] ?? "-")")
                }
            }
            let main = try Self.status("/proc/\(server.pid)/status")
            #expect(main["CapBnd"] == "0000000000000000", "CapBnd \(main["CapBnd"] ?? "-")")
            #expect(main["NoNewPrivs"] == "1")

            let udp = try RawSocket(.udp, to: .ipv4, port: server.port)
            let reply = try udp.exchange(try DNSQuery.bytes(id: 0x1234, name: "main.myws.me.coder", type: .aaaa))
            #expect(reply.answerAddresses == [ipv6(Demo.mywsMain)])
            let tcp = try RawSocket(.tcp, to: .ipv6, port: server.port)
            try tcp.send(DNSQuery.framed(try DNSQuery.bytes(id: 0x4321, name: "myws.coder", type: .aaaa)))
            #expect(try Message(bytes: try tcp.receiveMessage()).header.id == 0x4321)
        }
    }

    /// As dist/coderdns.service starts it: not root, with only an ambient CAP_NET_BIND_SERVICE
    /// (here from `setpriv`), and with --coder, whose SwiftNIO thread is the first the server
    /// starts. It binds a port below 1024, then no thread holds any capability (they are
    /// per thread: the server binds and drops them before it starts any), and it answers.
    @Test(
        .enabled(
            if: IntegrationEnvironment.isRoot || IntegrationEnvironment.rootTestsRequired,
            "needs root to start the server as nobody with a capability; CODERDNS_REQUIRE_ROOT_TESTS=1 makes this a failure"))
    func startedAsNobodyWithAmbientNetBindServiceItBindsAPortBelow1024AndThenNoThreadHoldsACapability() throws {
        try #require(IntegrationEnvironment.isRoot, "CODERDNS_REQUIRE_ROOT_TESTS=1, but the tests do not run as root")
        let nobody = try #require(getpwnam("nobody"), "no user nobody")
        let uid = nobody.pointee.pw_uid
        let gid = nobody.pointee.pw_gid
        let directory = try IntegrationEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        chmod(directory.path, 0o755)
        let token = directory.appendingPathComponent("session-token").path
        try "secret-token-value".write(toFile: token, atomically: true, encoding: .utf8)
        chown(token, uid, gid)
        chmod(token, 0o600)

        let server = try Self.serveWithAmbientCapability(
            user: "nobody", group: gid,
            arguments: ["--coder-url", "https://127.0.0.1:1", "--session-token-file", token, "--owner", "alice", "--workers", "2"])
        defer { server.stop() }
        #expect(server.standardError.contains("dropped capabilities"), "\(server.standardError)")
        let threads = try Self.threads(of: server.pid)
        #expect(threads.count >= 3, "the worker's and SwiftNIO's threads: \(threads.map(\.task))")
        for (task, fields) in threads {
            #expect(Self.ids(fields["Uid"]).allSatisfy { $0 == String(uid) }, "thread \(task): Uid \(fields["Uid"] ?? "-")")
            for set in ["CapInh", "CapPrm", "CapEff", "CapAmb"] {
                #expect(fields[set] == "0000000000000000", "thread \(task): \(set) \(fields[set] ?? "-")")
            }
            #expect(fields["NoNewPrivs"] == "1", "thread \(task): NoNewPrivs \(fields["NoNewPrivs"] ?? "-")")
        }

        let udp = try RawSocket(.udp, to: .ipv4, port: server.port)
        #expect(try udp.exchange(try DNSQuery.bytes(id: 0x1357, name: Demo.sentinel, type: .aaaa)).header.id == 0x1357)
        let tcp = try RawSocket(.tcp, to: .ipv4, port: server.port)
        try tcp.send(DNSQuery.framed(try DNSQuery.bytes(id: 0x2468, name: Demo.sentinel, type: .aaaa)))
        #expect(try Message(bytes: try tcp.receiveMessage()).header.id == 0x2468)
        #expect(server.isRunning, "\(server.standardError)")
    }

    /// `coderdns serve --listen 127.0.0.1:P` on a free port P below 1024, started by `setpriv`
    /// as `user` with an inheritable and ambient CAP_NET_BIND_SERVICE and nothing else; returns
    /// once it logs that it serves.
    static func serveWithAmbientCapability(user: String, group: gid_t, arguments: [String]) throws -> ServerProcess {
        var attempts: [String] = []
        for _ in 0..<8 {
            let port = UInt16.random(in: 600..<1000)
            let server = try ServerProcess(
                executable: "/usr/bin/setpriv",
                arguments: [
                    "--reuid", user, "--regid", String(group), "--clear-groups", "--inh-caps", "-all,+net_bind_service",
                    "--ambient-caps", "+net_bind_service", "--", IntegrationEnvironment.binary, "serve", "--listen", "127.0.0.1:\(port)",
                ] + arguments,
                port: port)
            if server.waitForLogLine(timeout: 10, where: ServerProcess.isServingLine) { return server }
            server.stop()
            guard server.standardError.contains("Address already in use") else {
                throw HarnessError("coderdns as \(user) with CAP_NET_BIND_SERVICE did not serve: \(server.standardError)")
            }
            attempts.append("port \(port): \(server.standardError)")
        }
        throw HarnessError("no free port below 1024 after 8 attempts:\n\(attempts.joined(separator: "\n"))")
    }

    @Test(
        .enabled(
            if: IntegrationEnvironment.isRoot || IntegrationEnvironment.rootTestsRequired,
            "needs root to drop privileges; CODERDNS_REQUIRE_ROOT_TESTS=1 makes this a failure"))
    func aMissingStateDirectoryIsCreated0700AndGivenToTheUser() throws {
        try #require(IntegrationEnvironment.isRoot, "CODERDNS_REQUIRE_ROOT_TESTS=1, but the tests do not run as root")
        let nobody = try #require(getpwnam("nobody"), "no user nobody")
        let parent = try IntegrationEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: parent) }
        let directory = parent.appendingPathComponent("state").path
        // A state directory goes with a stream (a control plane that is not there will do).
        let arguments = ["--user", "nobody", "--state-dir", directory, "--control-plane", "127.0.0.1:9"]
        try ServerProcess.withServer(arguments: arguments) { _ in
            var status = stat()
            try #require(stat(directory, &status) == 0)
            #expect(status.st_mode & 0o7777 == 0o700, "mode \(String(status.st_mode & 0o7777, radix: 8))")
            #expect(status.st_uid == nobody.pointee.pw_uid)
        }
    }

    @Test func anUnknownUserStopsStartupWithOneLine() throws {
        let port = IntegrationEnvironment.nextPort()
        let run = try ServerLifecycleTests.runToExit([
            "serve", "--snapshot", IntegrationEnvironment.demoSnapshot, "--owner", "alice", "--listen", "127.0.0.1:\(port)", "--user",
            "no-such-user-coderdns",
        ])
        #expect(run.ending == .exited(64), "\(run.server.endDescription); \(run.lines)")
        #expect(run.lines == ["coderdns: --user no-such-user-coderdns: no such user"])
    }

    @Test(arguments: [0o777, 0o770, 0o702])
    func aStateDirectoryOthersCanWriteStopsStartupWithOneLine(mode: Int) throws {
        let directory = try IntegrationEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        chmod(directory.path, mode_t(mode))
        let port = IntegrationEnvironment.nextPort()
        let run = try ServerLifecycleTests.runToExit([
            "serve", "--snapshot", IntegrationEnvironment.demoSnapshot, "--owner", "alice", "--listen", "127.0.0.1:\(port)",
            "--control-plane", "127.0.0.1:1", "--state-dir", directory.path,
        ])
        #expect(run.ending == .exited(64), "\(run.server.endDescription); \(run.lines)")
        #expect(
            run.lines == ["coderdns: --state-dir \(directory.path) is writable by other users (mode \(String(mode, radix: 8))): chmod 700 it"])
    }

    @Test(arguments: [0o666, 0o620])
    func aSessionTokenFileOthersCanWriteStopsStartupWithOneLine(mode: Int) throws {
        let directory = try IntegrationEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let token = directory.appendingPathComponent("session-token").path
        try "secret-token-value".write(toFile: token, atomically: true, encoding: .utf8)
        chmod(token, mode_t(mode))
        let port = IntegrationEnvironment.nextPort()
        let run = try ServerLifecycleTests.runToExit([
            "serve", "--coder-url", "https://127.0.0.1:1", "--session-token-file", token, "--owner", "alice", "--listen", "127.0.0.1:\(port)",
        ])
        #expect(run.ending == .exited(64), "\(run.server.endDescription); \(run.lines)")
        #expect(run.lines.count == 1, "\(run.lines)")
        let line = run.lines.first ?? ""
        #expect(line.contains("\(token) holds the session token and is writable by other users"), "\(line)")
        #expect(!line.contains("secret-token-value"))
    }
}
