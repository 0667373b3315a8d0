import DNSWire
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// One running `coderdns` (or a command that execs into it, such as `ip netns exec`), with
/// its standard error captured in a file.
///
/// It is stopped by its PID: SIGTERM, then SIGKILL if it is still there after 3 seconds.
/// ``withServer(snapshot:arguments:_:)`` stops it on every path out of a test, failures
/// included, and `deinit` does too for any instance that escapes.
final class ServerProcess {
    let child: ChildProcess
    /// The loopback port it serves on (both 127.0.0.1 and [::1]), or the port it was told.
    let port: UInt16
    private let directory: URL
    private let errorPath: String

    var pid: pid_t { child.pid }
    var isRunning: Bool { child.isRunning }

    /// Everything written to standard error so far.
    var standardError: String { (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "" }
    var standardErrorLines: [String] {
        standardError.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// Starts `executable` with `arguments`; does not wait for anything. `blockedSignals`
    /// are blocked in the child from its start, as a careless parent might leave them.
    init(executable: String, arguments: [String], port: UInt16, blockedSignals: [Int32] = [], environment: [String: String] = [:]) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw HarnessError("\(executable) is not an executable file (set CODERDNS_BINARY to the coderdns binary)")
        }
        let directory = try IntegrationEnvironment.makeTemporaryDirectory()
        let errorPath = directory.appendingPathComponent("stderr.log").path
        do {
            child = try ChildProcess(
                executable: executable, arguments: arguments, standardError: errorPath, blockedSignals: blockedSignals, environment: environment)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
        self.port = port
        self.directory = directory
        self.errorPath = errorPath
    }

    deinit {
        child.stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Sends `signal` to the process, if it is still running.
    func send(signal: Int32) { child.send(signal: signal) }

    /// SIGTERM, up to 3 seconds to exit, then SIGKILL. Safe to call more than once.
    func stop() { child.stop() }

    /// How the process ended, or nil if it still runs after `timeout` seconds.
    func waitForExit(timeout: Double) -> ChildProcess.Ending? { child.waitForExit(timeout: timeout) }

    /// How the process ended, for messages.
    var endDescription: String { child.endingIfEnded?.description ?? "still running" }

    /// Waits until a line of standard error satisfies `predicate`. False on timeout or exit.
    func waitForLogLine(timeout: Double = 5, where predicate: (String) -> Bool) -> Bool {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if standardErrorLines.contains(where: predicate) { return true }
            if !isRunning { return standardErrorLines.contains(where: predicate) }
            usleep(10_000)
        }
        return false
    }

    /// The log line written once every socket is bound.
    static func isServingLine(_ line: String) -> Bool { line.hasSuffix(" serving") }
}

// MARK: - Loopback servers

extension ServerProcess {
    /// Starts `coderdns serve --owner alice --listen 127.0.0.1:P --listen [::1]:P` on a free
    /// port P, plus `--snapshot` and `arguments`, and returns once it answers a UDP query.
    /// A port taken by another process is retried with the next one. `owner` nil leaves
    /// `--owner` out (with `--coder` the deployment names the owner).
    static func serve(
        snapshot: String? = IntegrationEnvironment.demoSnapshot, arguments extra: [String] = [], blockedSignals: [Int32] = [],
        owner: String? = "alice", environment: [String: String] = [:]
    ) throws -> ServerProcess {
        var attempts: [String] = []
        for _ in 0..<8 {
            let port = IntegrationEnvironment.nextPort()
            var arguments = ["serve", "--listen", "127.0.0.1:\(port)", "--listen", "[::1]:\(port)"]
            if let owner { arguments += ["--owner", owner] }
            if let snapshot { arguments += ["--snapshot", snapshot] }
            arguments += extra
            let server = try ServerProcess(
                executable: IntegrationEnvironment.binary, arguments: arguments, port: port, blockedSignals: blockedSignals,
                environment: environment)
            switch server.waitUntilAnswering(timeout: 5) {
            case .ready:
                return server
            case .addressInUse:
                attempts.append("port \(port): \(server.standardError)")
                server.stop()
            case .failed(let reason):
                server.stop()
                throw HarnessError("coderdns \(arguments.joined(separator: " ")): \(reason)")
            }
        }
        throw HarnessError("no free port for coderdns after 8 attempts:\n\(attempts.joined(separator: "\n"))")
    }

    /// Runs `body` with a server from ``serve(snapshot:arguments:)`` and stops the server
    /// afterwards, however `body` ends. A server that died during `body` is a test failure.
    static func withServer<Result>(
        snapshot: String? = IntegrationEnvironment.demoSnapshot, arguments: [String] = [], owner: String? = "alice",
        environment: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation, _ body: (ServerProcess) throws -> Result
    ) throws -> Result {
        let server = try serve(snapshot: snapshot, arguments: arguments, owner: owner, environment: environment)
        defer { server.stop() }
        let result = try body(server)
        #expect(
            server.isRunning, "coderdns \(server.endDescription) during the test; stderr:\n\(server.standardError)",
            sourceLocation: sourceLocation)
        return result
    }

    enum Readiness {
        case ready
        case addressInUse
        case failed(String)
    }

    /// Ready means: the "serving" line is logged (every socket is bound, so the port is ours
    /// and not another server's) and a UDP query to 127.0.0.1 is answered.
    private func waitUntilAnswering(timeout: Double) -> Readiness {
        let deadline = monotonicSeconds() + timeout
        var probeID: UInt16 = 0xA000
        while monotonicSeconds() < deadline {
            if !isRunning {
                let text = standardError
                if text.contains("Address already in use") { return .addressInUse }
                return .failed("\(endDescription) before serving; stderr:\n\(text)")
            }
            if standardErrorLines.contains(where: Self.isServingLine) {
                probeID &+= 1
                if let reply = try? probe(id: probeID), reply.header.id == probeID { return .ready }
            }
            usleep(10_000)
        }
        return .failed("not answering after \(timeout) s; stderr:\n\(standardError)")
    }

    private func probe(id: UInt16) throws -> Message? {
        let socket = try RawSocket(.udp, to: .ipv4, port: port)
        try socket.send(try DNSQuery.bytes(id: id, name: "is.coder--connect--enabled--right--now.coder", type: .aaaa))
        guard let reply = try socket.receiveDatagram(timeout: 0.2) else { return nil }
        return try Message(bytes: reply)
    }
}
