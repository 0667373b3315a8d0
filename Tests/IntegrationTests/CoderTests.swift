import DNSWire
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// coderdns `serve --coder` against the fake coderd of tests/coderd-peer: HTTPS, a WebSocket,
/// yamux and DRPC from coderd's own Go libraries.
@Suite("Following a Coder deployment, on the real binary", .serialized)
struct CoderIntegrationTests {
    /// The AAAA addresses `name` answers, in the form dig prints; empty for anything else.
    static func addresses(_ port: UInt16, _ name: String) -> [String] {
        guard let reply = try? ControlPlaneIntegrationTests.reply(port, name), reply.rcode == .noError else { return [] }
        return reply.answers.compactMap { record in
            guard case .aaaa(let bytes) = record.data else { return nil }
            return CoderPeer.ipv6Text(bytes)
        }
    }

    /// Polls until `name` answers exactly `expected` (true) or `timeout` passes (false).
    static func waitForAddresses(_ port: UInt16, _ name: String, _ expected: [String], timeout: Double = 10) -> Bool {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if addresses(port, name) == expected { return true }
            usleep(20_000)
        }
        return false
    }

    /// How many lines of the server's log contain `text`.
    static func lines(of server: ServerProcess, containing text: String) -> Int {
        var count = 0
        for line in server.standardErrorLines where line.contains(text) { count += 1 }
        return count
    }

    static func rcode(_ port: UInt16, _ name: String) -> RCode? { try? ControlPlaneIntegrationTests.reply(port, name).rcode }

    static func waitFor(_ timeout: Double, _ condition: () throws -> Bool) -> Bool {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if (try? condition()) == true { return true }
            usleep(50_000)
        }
        return false
    }

    /// A service's dynamic user on a system without nss-systemd has no name (found starting
    /// dist/coderdns.service, tests/systemd-unit/run): following coderd, that must not stop the
    /// server, since the deployment names the owner. Run as a uid with no passwd entry.
    @Test func aUserTheSystemCannotNameStillFollowsTheDeploymentsOwner() throws {
        guard geteuid() == 0 else { return }
        let uid: UInt32 = 61_777
        #expect(getpwuid(uid) == nil, "the test's uid must have no name")
        let peer = try CoderPeer(arguments: ["--username", "Alice"])
        try peer.setState([("dev", ["main"])])
        // The login, readable by that uid only.
        let login = try IntegrationEnvironment.makeTemporaryDirectory()
        chmod(login.path, 0o755)
        let token = login.appendingPathComponent("token").path
        let ca = login.appendingPathComponent("ca.pem").path
        try FileManager.default.copyItem(atPath: peer.tokenFile, toPath: token)
        try FileManager.default.copyItem(atPath: peer.caFile, toPath: ca)
        chown(token, uid, uid)
        chmod(token, 0o600)
        chmod(ca, 0o644)
        let port = IntegrationEnvironment.nextPort()
        let server = try ServerProcess(
            executable: "/usr/bin/setpriv",
            arguments: [
                "--reuid", "\(uid)", "--regid", "\(uid)", "--clear-groups", IntegrationEnvironment.binary, "serve", "--listen",
                "127.0.0.1:\(port)", "--coder-url", peer.url, "--session-token-file", token, "--coder-ca-file", ca,
            ], port: port, environment: ["HOME": "/nonexistent"])
        defer { server.stop() }
        #expect(Self.waitForAddresses(port, "main.dev.alice.coder", [CoderPeer.address("dev", "main")]), "\(server.standardError)")
        #expect(Self.addresses(port, "main.dev.me.coder") == [CoderPeer.address("dev", "main")])
        #expect(!server.standardError.contains("cannot tell the login user"), "\(server.standardError)")
    }

    @Test func theFirstMessageIsASnapshotLaterOnesAreDiffsAndTheDeploymentNamesTheOwnerAndSuffix() throws {
        let peer = try CoderPeer(arguments: ["--username", "Alice", "--user-id", "0f0e0d0c-0b0a-4908-8706-050403020100"])
        try peer.setState([("dev", ["main"]), ("gpu", ["main", "cuda"])])
        try ServerProcess.withServer(snapshot: nil, arguments: peer.coderArguments, owner: nil) { server in
            let main = CoderPeer.address("dev", "main")
            #expect(Self.waitForAddresses(server.port, "main.dev.me.coder", [main]))
            // The owner label is the deployment's user name, lower-cased; single-agent short name.
            #expect(Self.addresses(server.port, "main.dev.alice.coder") == [main])
            #expect(Self.addresses(server.port, "dev.coder") == [main])
            #expect(Self.addresses(server.port, "cuda.gpu.me.coder") == [CoderPeer.address("gpu", "cuda")])

            // What coderd saw: the owner's id from /users/me, version 2.3, the token header, no Origin.
            let stats = try peer.stats()
            #expect(stats["last_owner_id"] as? String == "0f0e0d0c-0b0a-4908-8706-050403020100")
            #expect(stats["last_version"] as? String == "2.3")
            #expect(stats["origin_seen"] as? Bool == false)
            #expect(stats["token_header_seen"] as? Bool == true)
            #expect(stats["tailnet_connections"] as? Int == 1)

            // A diff: one workspace gone, one added, one renamed agent.
            try peer.setState([("gpu", ["main", "tensor"]), ("new", ["main"])])
            #expect(Self.waitForAddresses(server.port, "main.new.me.coder", [CoderPeer.address("new", "main")]))
            #expect(Self.waitFor(5) { Self.rcode(server.port, "main.dev.me.coder") == .nameError })
            #expect(Self.addresses(server.port, "tensor.gpu.me.coder") == [CoderPeer.address("gpu", "tensor")])
            #expect(Self.rcode(server.port, "cuda.gpu.me.coder") == .nameError)
            #expect(try peer.count("tailnet_connections") == 1, "diffs arrive on the same stream")

            // The deployment's suffix changes: on the next connection the names move, in one swap.
            try peer.control("/suffix?value=corp.example")
            try peer.control("/drop?how=websocket")
            #expect(Self.waitForAddresses(server.port, "main.new.me.corp.example", [CoderPeer.address("new", "main")]))
            #expect(Self.rcode(server.port, "main.new.me.coder") == .refused)
            #expect(server.waitForLogLine { $0.contains("the zone follows the deployment") && $0.contains("corp.example") })
            #expect(server.standardError.contains(CoderPeer.token) == false, "the token never appears in the log")
        }
    }

    @Test func aHundredThousandWorkspaceSnapshotArrivesWholeThroughWindowsFramesAndSplitMessages() throws {
        // Every WebSocket message at most 7,000 bytes: yamux headers and bodies arrive split.
        let peer = try CoderPeer(arguments: ["--split-writes", "7000"])
        try peer.control("/generate?workspaces=100000&agents=1")
        try ServerProcess.withServer(snapshot: nil, arguments: peer.coderArguments, owner: nil) { server in
            #expect(Self.waitForAddresses(server.port, "main.ws-99999.me.coder", [CoderPeer.generatedAddress(workspace: 99999)], timeout: 60))
            for index in [0, 1, 4242, 50_000, 99_998] {
                #expect(Self.addresses(server.port, "ws-\(index).coder") == [CoderPeer.generatedAddress(workspace: index)])
            }
            // Then a one-workspace diff on the same stream.
            try peer.control("/generate?workspaces=100001&agents=1")
            #expect(Self.waitForAddresses(server.port, "main.ws-100000.me.coder", [CoderPeer.generatedAddress(workspace: 100_000)], timeout: 30))
            #expect(try peer.count("tailnet_connections") == 1)
        }
    }

    @Test func theSessionSurvivesOneSecondKeepalivesAndAPeerThatStopsAnsweringIsRedialed() throws {
        let peer = try CoderPeer(arguments: ["--keepalive-interval", "1s", "--write-timeout", "2s", "--ws-ping-interval", "1s"])
        try peer.setState([("dev", ["main"])])
        try ServerProcess.withServer(snapshot: nil, arguments: peer.coderArguments + ["--coder-keepalive", "2"], owner: nil) { server in
            #expect(Self.waitForAddresses(server.port, "main.dev.me.coder", [CoderPeer.address("dev", "main")]))
            sleep(seconds: 30)
            #expect(try peer.count("tailnet_connections") == 1, "coderd's pings every second were answered for 30 s")
            #expect(try peer.count("ws_pongs") >= 20, "WebSocket pings are answered too")
            // The peer goes silent without closing anything: our own pings notice.
            let loop = QueryLoop(names: ["main.dev.me.coder", "dev.coder"], port: server.port)
            try peer.control("/freeze")
            #expect(server.waitForLogLine(timeout: 10) { $0.contains("stopped answering yamux pings") })
            #expect(Self.waitFor(10) { try peer.count("tailnet_connections") == 2 }, "redialed")
            try peer.control("/thaw")
            let (answered, failed, failures) = loop.stop()
            #expect(failed == 0, "failures: \(failures)")
            #expect(answered > 10)
        }
    }

    @Test func namesAnswerThroughDropsResetsRestartsAndRefusalsAndTheNextSnapshotReplacesThem() throws {
        var peer = try CoderPeer()
        let port = peer.httpsPort
        let directory = peer.directory
        let names = ["main.dev.me.coder", "dev.coder", "main.gpu.alice.coder", "gpu.coder"]
        try peer.setState([("dev", ["main"]), ("gpu", ["main"])])
        try ServerProcess.withServer(snapshot: nil, arguments: peer.coderArguments, owner: nil) { server in
            #expect(Self.waitForAddresses(server.port, "gpu.coder", [CoderPeer.address("gpu", "main")]))
            let loop = QueryLoop(names: names, port: server.port)
            for how in ["websocket", "reset", "midframe", "goaway"] {
                let before = try peer.count("tailnet_connections")
                try peer.control("/drop?how=\(how)")
                #expect(Self.waitFor(10) { try peer.count("tailnet_connections") > before }, "redialed after \(how)")
                #expect(try peer.count("active_streams") == 1)
            }
            // coderd restarts and refuses connections for two seconds; it comes back with other data.
            peer.stop()
            sleep(seconds: 2)
            #expect(server.waitForLogLine { $0.contains("connection refused by 127.0.0.1:\(port)") })
            let (answered, failed, failures) = loop.stop()
            #expect(failed == 0, "failures: \(failures)")
            #expect(answered > names.count * 10)

            peer = try CoderPeer(port: port, directory: directory)
            try peer.setState([("dev", ["main"]), ("web", ["main"])])
            #expect(Self.waitForAddresses(server.port, "web.coder", [CoderPeer.address("web", "main")], timeout: 15))
            #expect(Self.rcode(server.port, "gpu.coder") == .nameError, "the new snapshot replaced the inherited state")
            #expect(Self.addresses(server.port, "dev.coder") == [CoderPeer.address("dev", "main")])
        }
    }

    @Test(arguments: [
        (401, "sign in again with `coder login`", true), (400, "needs Coder v2.18 or later", true),
        (409, "disables non-browser connections", true), (500, "coderd has a problem", false),
        (403, "the deployment refuses this client", true), (404, "needs Coder v2.18 or later", true),
    ])
    func refusalsAreLoggedNamesKeepServingAndPermanentOnesAreNotRetriedTightly(status: Int, words: String, permanent: Bool) throws {
        let peer = try CoderPeer()
        try peer.control("/fail?path=tailnet&status=\(status)")
        try ServerProcess.withServer(snapshot: IntegrationEnvironment.demoSnapshot, arguments: peer.coderArguments) { server in
            #expect(server.waitForLogLine { $0.contains("HTTP \(status) from \(peer.url)/api/v2/tailnet") && $0.contains(words) })
            #expect(Self.rcode(server.port, "main.myws.me.coder") == .noError, "the starting state keeps serving")
            let first = try peer.count("tailnet_requests")
            sleep(seconds: 3)
            let retries = try peer.count("tailnet_requests") - first
            if permanent {
                #expect(retries <= 1, "HTTP \(status) is not retried tightly: \(retries) retries in 3 s")
            } else {
                #expect(retries >= 2, "HTTP \(status) is retried with the short backoff: \(retries) retries in 3 s")
            }
        }
    }

    @Test func aCertificateTheClientMustNotTrustIsRefusedWithTheReason() throws {
        let peer = try CoderPeer(arguments: ["--untrusted"])
        try ServerProcess.withServer(snapshot: IntegrationEnvironment.demoSnapshot, arguments: peer.coderArguments) { server in
            #expect(server.waitForLogLine { $0.contains("TLS verification failed for 127.0.0.1:\(peer.httpsPort)") })
            let requests = try peer.count("users_me_requests")
            #expect(requests == 0, "no request is sent over an untrusted connection")
            // Retrying will not make the certificate trusted: no tight loop.
            sleep(seconds: 3)
            let attempts = Self.lines(of: server, containing: "TLS verification failed")
            #expect(attempts <= 2, "\(attempts) attempts in 3 s")
            #expect(Self.rcode(server.port, "main.myws.me.coder") == .noError)
        }
    }

    @Test func aDeploymentHostThatDoesNotResolveIsSaidSoAndNamesKeepServing() throws {
        let tokenFile = try IntegrationEnvironment.makeTemporaryDirectory().appendingPathComponent("token").path
        try CoderPeer.token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o600)
        // .invalid never resolves (RFC 2606).
        let arguments = ["--coder-url", "https://coderd.invalid", "--session-token-file", tokenFile]
        try ServerProcess.withServer(snapshot: IntegrationEnvironment.demoSnapshot, arguments: arguments) { server in
            #expect(server.waitForLogLine(timeout: 15) { $0.contains("cannot resolve the deployment's host coderd.invalid") })
            #expect(Self.rcode(server.port, "main.myws.me.coder") == .noError)
        }
    }

    @Test func aDRPCErrorAndABareCloseAreLoggedAndRedialed() throws {
        let peer = try CoderPeer()
        try peer.setState([("dev", ["main"])])
        try ServerProcess.withServer(snapshot: nil, arguments: peer.coderArguments, owner: nil) { server in
            #expect(Self.waitForAddresses(server.port, "dev.coder", [CoderPeer.address("dev", "main")]))
            try peer.control("/drpc-error?code=12&message=workspace%20updates%20not%20supported")
            #expect(server.waitForLogLine { $0.contains("DRPC error, code 12: workspace updates not supported") })
            #expect(Self.waitFor(10) { try peer.count("tailnet_connections") == 2 && peer.count("active_streams") == 1 })
            try peer.control("/drpc-close")
            #expect(server.waitForLogLine { $0.contains("closed the update stream") })
            #expect(Self.waitFor(10) { try peer.count("tailnet_connections") == 3 })
            #expect(Self.addresses(server.port, "dev.coder") == [CoderPeer.address("dev", "main")])
        }
    }

    @Test func agentNamesAsCoderAllowsThemResolveAndAnImpossibleOneIsSkippedAlone() throws {
        let peer = try CoderPeer()
        let long = String(repeating: "x", count: 64)
        try peer.setState([("main-workspace", ["main_agent-1", "9lives", "UPPER", long]), ("other", ["main"])])
        try ServerProcess.withServer(snapshot: nil, arguments: peer.coderArguments, owner: nil) { server in
            #expect(Self.waitForAddresses(server.port, "main.other.me.coder", [CoderPeer.address("other", "main")]))
            #expect(Self.addresses(server.port, "main_agent-1.main-workspace.alice.coder") == [CoderPeer.address("main-workspace", "main_agent-1")])
            #expect(Self.addresses(server.port, "9lives.main-workspace.me.coder") == [CoderPeer.address("main-workspace", "9lives")])
            #expect(Self.addresses(server.port, "upper.main-workspace.me.coder") == [CoderPeer.address("main-workspace", "UPPER")])
            #expect(Self.rcode(server.port, "\(long).main-workspace.me.coder") != .noError)
            #expect(server.waitForLogLine { $0.contains(long) })
            #expect(Self.addresses(server.port, "other.coder") == [CoderPeer.address("other", "main")])
        }
    }

    @Test func aRestartWithCoderdUnreachableAnswersFromTheCacheAtOnceUnderTheDeploymentsOwner() throws {
        let peer = try CoderPeer(arguments: ["--username", "bob", "--hostname-suffix", "ws.corp"])
        try peer.setState([("dev", ["main"])])
        let stateDirectory = try IntegrationEnvironment.makeTemporaryDirectory().appendingPathComponent("state").path
        let arguments = peer.coderArguments + ["--state-dir", stateDirectory]
        let first = try ServerProcess.serve(snapshot: nil, arguments: arguments, owner: nil)
        #expect(Self.waitForAddresses(first.port, "main.dev.bob.ws.corp", [CoderPeer.address("dev", "main")]))
        #expect(Self.waitFor(5) { FileManager.default.fileExists(atPath: stateDirectory + "/state.cache") })
        sleep(seconds: 0.5)
        first.send(signal: SIGKILL)
        _ = first.waitForExit(timeout: 5)
        peer.stop()
        try ServerProcess.withServer(snapshot: nil, arguments: arguments, owner: nil) { server in
            // Answered by the time the server answers anything: the cache is served before the sockets open.
            #expect(Self.addresses(server.port, "main.dev.bob.ws.corp") == [CoderPeer.address("dev", "main")])
            #expect(Self.addresses(server.port, "dev.ws.corp") == [CoderPeer.address("dev", "main")])
            #expect(server.waitForLogLine { $0.contains("connection refused") })
        }
    }

    @Test func serveCoderFindsTheLoginTheCoderCLILeftBehind() throws {
        let peer = try CoderPeer()
        try peer.setState([("dev", ["main"])])
        let config = try IntegrationEnvironment.makeTemporaryDirectory()
        try "\(peer.url)\n".write(to: config.appendingPathComponent("url"), atomically: true, encoding: .utf8)
        try "\(CoderPeer.token)\n".write(to: config.appendingPathComponent("session"), atomically: true, encoding: .utf8)
        chmod(config.appendingPathComponent("session").path, 0o644)
        try ServerProcess.withServer(
            snapshot: nil, arguments: ["--coder", "--coder-ca-file", peer.caFile], owner: nil,
            environment: ["CODER_CONFIG_DIR": config.path, "CODER_URL": "", "CODER_SESSION_TOKEN": ""]
        ) { server in
            #expect(Self.waitForAddresses(server.port, "main.dev.me.coder", [CoderPeer.address("dev", "main")]))
            #expect(server.standardError.contains("readable by other users"))
            #expect(server.standardError.contains(CoderPeer.token) == false)
        }
    }
}
