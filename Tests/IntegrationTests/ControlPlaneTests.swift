import ControlPlane
import DNSWire
import Foundation
import RecordStore
import Synchronization
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Queries a list of names over UDP in a loop on its own thread, until stopped, and counts
/// every answer that is not NOERROR with exactly one AAAA record.
final class QueryLoop: Sendable {
    let names: [String]
    let port: UInt16
    let answered = Atomic<Int>(0)
    let failed = Atomic<Int>(0)
    let failures = Mutex<[String]>([])
    private let stopping = Atomic<Bool>(false)
    private let done = DispatchSemaphore(value: 0)

    init(names: [String], port: UInt16) {
        self.names = names
        self.port = port
        Thread.detachNewThread { [self] in
            run()
            done.signal()
        }
    }

    private func run() {
        guard let socket = try? RawSocket(.udp, to: .ipv4, port: port) else {
            record("cannot open a UDP socket")
            return
        }
        var id: UInt16 = 0
        while !stopping.load(ordering: .relaxed) {
            for name in names {
                id &+= 1
                do {
                    let reply = try socket.exchange(try DNSQuery.bytes(id: id, name: name, type: .aaaa), timeout: 1)
                    if reply.header.id == id && reply.rcode == .noError && reply.answers.count == 1 && reply.answers[0].type == .aaaa {
                        answered.add(1, ordering: .relaxed)
                    } else {
                        record("\(name): \(reply.rcode), \(reply.answers.count) answers")
                    }
                } catch {
                    record("\(name): \(error)")
                }
            }
        }
    }

    private func record(_ failure: String) {
        failed.add(1, ordering: .relaxed)
        failures.withLock { if $0.count < 10 { $0.append(failure) } }
    }

    /// Stops the loop and returns (answered, failed, first failures).
    func stop() -> (Int, Int, [String]) {
        stopping.store(true, ordering: .relaxed)
        done.wait()
        return (answered.load(ordering: .relaxed), failed.load(ordering: .relaxed), failures.withLock { $0 })
    }
}

@Suite("The control plane, on the real binary", .serialized)
struct ControlPlaneIntegrationTests {
    static func reply(_ port: UInt16, _ name: String, _ type: RecordType = .aaaa) throws -> Message {
        let socket = try RawSocket(.udp, to: .ipv4, port: port)
        return try socket.exchange(try DNSQuery.bytes(id: 7, name: name, type: type))
    }

    /// Polls until `name` gets `rcode` (true) or `timeout` passes (false).
    static func waitFor(_ port: UInt16, _ name: String, _ rcode: RCode, timeout: Double = 5) -> Bool {
        let deadline = monotonicSeconds() + timeout
        while monotonicSeconds() < deadline {
            if let reply = try? reply(port, name), reply.rcode == rcode { return true }
            usleep(10_000)
        }
        return false
    }

    static func stateDirectory() throws -> String {
        try IntegrationEnvironment.makeTemporaryDirectory().path
    }

    /// The seed's failure (Coder PLAT-110): the connection drops and the new session never
    /// gets a snapshot. Every name, sentinel included, must answer through the whole window.
    @Test func namesKeepAnsweringWhenTheControlPlaneDropsAndComesBackWithoutASnapshot() throws {
        let controlPlane = try ControlPlaneStandIn()
        let state = TestStates.state(["alpha", "beta", "gamma"])
        try ServerProcess.withServer(snapshot: nil, arguments: ["--control-plane", controlPlane.endpoint]) { server in
            let first = try controlPlane.accept()
            #expect(try Self.reply(server.port, "alpha.coder").rcode == .serverFailure, "before any data: SERVFAIL, not NXDOMAIN")
            try first.send(WorkspaceUpdate(snapshotOf: state))
            #expect(Self.waitFor(server.port, "alpha.coder", .noError))

            let names = TestStates.names(of: state)
            let loop = QueryLoop(names: names, port: server.port)
            sleep(seconds: 0.3)
            first.drop()
            // The reconnect is accepted, and then nothing is ever sent on it.
            let second = try controlPlane.accept()
            sleep(seconds: 1.0)
            second.drop()
            // Then the control plane is gone altogether for a while.
            controlPlane.disappear()
            sleep(seconds: 1.0)
            let (answered, failed, failures) = loop.stop()
            #expect(failed == 0, "failures: \(failures)")
            #expect(answered > names.count * 5)

            // When a snapshot finally comes, it replaces the state: names it lacks disappear.
            try controlPlane.listen()
            let third = try controlPlane.accept(timeout: 15)
            try third.send(WorkspaceUpdate(snapshotOf: TestStates.state(["alpha", "delta"])))
            #expect(Self.waitFor(server.port, "delta.coder", .noError))
            #expect(try Self.reply(server.port, "beta.coder").rcode == .nameError)
            #expect(try Self.reply(server.port, "alpha.coder").rcode == .noError)
        }
    }

    @Test func everyConnectionStartsWithTheRequestForTheOwner() throws {
        let controlPlane = try ControlPlaneStandIn()
        let owner = "0f0e0d0c-0b0a-4908-8706-050403020100"
        try ServerProcess.withServer(snapshot: nil, arguments: ["--control-plane", controlPlane.endpoint, "--owner-id", owner]) { _ in
            let expected = WorkspaceUpdatesRequest(workspaceOwnerID: IdentifierField(Identifier(string: owner)!)).serializedBytes()
            let first = try controlPlane.accept()
            #expect(first.request == expected)
            first.drop()
            let second = try controlPlane.accept()
            #expect(second.request == expected)
        }
    }

    @Test func diffsApplyOddAgentsAreSkippedAndBytesThatDoNotDecodeAreRejectedWhole() throws {
        let controlPlane = try ControlPlaneStandIn()
        try ServerProcess.withServer(snapshot: nil, arguments: ["--control-plane", controlPlane.endpoint]) { server in
            let connection = try controlPlane.accept()
            try connection.send(WorkspaceUpdate(snapshotOf: TestStates.state(["alpha", "beta"])))
            #expect(Self.waitFor(server.port, "alpha.coder", .noError))

            var diff = WorkspaceUpdate()
            let extra = TestStates.state(["gamma"], pair: false)
            diff = WorkspaceUpdate(snapshotOf: extra)
            diff.deletedWorkspaces = [WorkspaceUpdate.Workspace(id: IdentifierField(TestStates.identifier("beta", 1)))]
            try connection.send(diff)
            #expect(Self.waitFor(server.port, "gamma.coder", .noError))
            #expect(Self.waitFor(server.port, "beta.coder", .nameError))

            // An agent of an unknown workspace and an agent whose name has a dot, together
            // with good ones (an underscore, a leading digit, capitals): the odd agents are
            // skipped and logged, the rest applies, and the connection stays.
            var odd = WorkspaceUpdate(snapshotOf: TestStates.state(["omega", "sigma", "9lives"], pair: false))
            let omegaAgent = TestStates.identifier("omega", 2)
            let sigmaAgent = TestStates.identifier("sigma", 2)
            for index in odd.upsertedAgents.indices {
                switch odd.upsertedAgents[index].id.identifier {
                case omegaAgent: odd.upsertedAgents[index].workspaceID = IdentifierField(TestStates.identifier("nowhere", 1))
                case sigmaAgent: odd.upsertedAgents[index].name = "Dev_Box"
                default: odd.upsertedAgents[index].name = "my.agent"
                }
            }
            try connection.send(odd)
            #expect(Self.waitFor(server.port, "dev_box.sigma.me.coder", .noError))
            #expect(try Self.reply(server.port, "sigma.coder").rcode == .noError)
            #expect(try Self.reply(server.port, "omega.coder").rcode == .nameError)
            #expect(try Self.reply(server.port, "9lives.coder").rcode == .nameError)
            #expect(try Self.reply(server.port, "gamma.coder").rcode == .noError)
            #expect(!connection.waitForClose(timeout: 0.5), "an odd agent does not close the connection")
            #expect(server.waitForLogLine { $0.contains("unknown workspace") })
            #expect(server.waitForLogLine { $0.contains("my.agent") })
            // A rename makes that agent's names servable.
            var rename = WorkspaceUpdate()
            rename.upsertedAgents = [
                WorkspaceUpdate.Agent(
                    id: IdentifierField(TestStates.identifier("9lives", 2)), name: "main",
                    workspaceID: IdentifierField(TestStates.identifier("9lives", 1)))
            ]
            try connection.send(rename)
            #expect(Self.waitFor(server.port, "main.9lives.alice.coder", .noError))

            // Garbage bytes: rejected whole, the connection closed and dialed again.
            try connection.sendRaw([0x05, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
            #expect(connection.waitForClose(timeout: 5), "a rejected message closes the connection")
            #expect(server.waitForLogLine { $0.contains(" warning ") && $0.contains("control-plane message rejected") })
            #expect(try Self.reply(server.port, "alpha.coder").rcode == .noError)
            #expect(try Self.reply(server.port, "9lives.coder").rcode == .noError)
            // A length over the cap (1 GiB) as well.
            let third = try controlPlane.accept()
            try third.sendRaw([0x80, 0x80, 0x80, 0x80, 0x04])
            #expect(third.waitForClose(timeout: 5))
            #expect(try Self.reply(server.port, "gamma.coder").rcode == .noError)
        }
    }

    /// kill -9 with the control plane gone, then a restart: the names come back from the
    /// cache, although no control plane ever answers again. (How soon is a figure:
    /// bench/control-plane-figures.)
    @Test func aRestartAnswersFromTheCacheWithTheControlPlaneGone() throws {
        let controlPlane = try ControlPlaneStandIn()
        let directory = try Self.stateDirectory()
        let state = TestStates.state(["alpha", "beta"])
        let arguments = ["--control-plane", controlPlane.endpoint, "--state-dir", directory]
        let first = try ServerProcess.serve(snapshot: nil, arguments: arguments)
        defer { first.stop() }
        let connection = try controlPlane.accept()
        try connection.send(WorkspaceUpdate(snapshotOf: state))
        #expect(Self.waitFor(first.port, "alpha.coder", .noError))
        // The cache is written within a few hundred milliseconds of the change.
        let cachePath = directory + "/state.cache"
        let deadline = monotonicSeconds() + 5
        while !FileManager.default.fileExists(atPath: cachePath) && monotonicSeconds() < deadline { usleep(20_000) }
        #expect(FileManager.default.fileExists(atPath: cachePath))
        controlPlane.disappear()
        first.send(signal: SIGKILL)
        _ = first.waitForExit(timeout: 5)

        let port = IntegrationEnvironment.nextPort()
        let started = monotonicSeconds()
        let second = try ServerProcess(
            executable: IntegrationEnvironment.binary,
            arguments: ["serve", "--owner", "alice", "--listen", "127.0.0.1:\(port)"] + arguments, port: port)
        defer { second.stop() }
        var answered = false
        while !answered && monotonicSeconds() - started < 10 {
            if let reply = try? Self.reply(port, "main.alpha.me.coder"), reply.rcode == .noError, reply.answers.count == 1 {
                answered = true
            }
            usleep(5_000)
        }
        try #require(answered, "no answer from the cache; stderr:\n\(second.standardError)")
        #expect(second.standardError.contains("loaded the state cache"))
        for name in TestStates.names(of: state) {
            #expect(try Self.reply(port, name).rcode == .noError, "\(name)")
        }
    }

    /// A corrupt cache is reported and ignored: the server starts, and a name it cannot know
    /// about gets SERVFAIL, never NXDOMAIN.
    @Test func aCorruptCacheIsIgnoredAndNothingIsNXDOMAIN() throws {
        let directory = try Self.stateDirectory()
        try Data("CDNSSTAT this is not a cache".utf8).write(to: URL(fileURLWithPath: directory + "/state.cache"))
        try Data([0, 1, 2]).write(to: URL(fileURLWithPath: directory + "/state.cache.prev"))
        let nowhere = try IntegrationEnvironment.makeTemporaryDirectory().appendingPathComponent("nobody.sock").path
        try ServerProcess.withServer(snapshot: nil, arguments: ["--control-plane", "unix:\(nowhere)", "--state-dir", directory]) { server in
            for name in ["alpha.coder", "main.alpha.me.coder", "is.coder--connect--enabled--right--now.coder", "me.coder", "coder"] {
                let reply = try Self.reply(server.port, name)
                #expect(reply.rcode == .serverFailure, "\(name): \(reply.rcode)")
            }
            #expect(server.standardError.contains("ignoring a bad state cache"))
        }
    }

    /// Snapshots swapped over and over (a diff adding or removing 300 workspaces each time)
    /// while dnsperf, another process, queries names present in every snapshot at full speed:
    /// not one query may fail or go missing.
    @Test func swapsUnderFullLoadLoseNothing() throws {
        let dnsperf = "/usr/bin/dnsperf"
        try #require(FileManager.default.isExecutableFile(atPath: dnsperf), "dnsperf is not installed (scripts/setup installs it)")
        let controlPlane = try ControlPlaneStandIn()
        let stable = TestStates.state((0..<200).map { "stable\($0)" })
        try ServerProcess.withServer(snapshot: nil, arguments: ["--control-plane", controlPlane.endpoint, "--workers", "1"]) { server in
            let connection = try controlPlane.accept()
            try connection.send(WorkspaceUpdate(snapshotOf: stable))
            #expect(Self.waitFor(server.port, "stable0.coder", .noError))

            let directory = try IntegrationEnvironment.makeTemporaryDirectory()
            let queries = directory.appendingPathComponent("queries").path
            try TestStates.names(of: stable).map { "\($0) AAAA" }.joined(separator: "\n").write(toFile: queries, atomically: true, encoding: .utf8)
            let output = directory.appendingPathComponent("dnsperf.out").path
            // A query is lost when no reply comes within `-t` seconds. Under a sanitizer the
            // server runs several times slower and, on a busy machine, once fell over 2 s
            // behind (all 200 queries in flight "lost"): every query must still be answered.
            let timeout = IntegrationEnvironment.sanitizer == nil ? "2" : "10"
            let load = try ChildProcess(
                executable: dnsperf,
                arguments: ["-s", "127.0.0.1", "-p", "\(server.port)", "-d", queries, "-l", "4", "-c", "4", "-q", "200", "-t", timeout],
                standardOutput: output, standardError: output)

            let churn = TestStates.state((0..<300).map { "churn\($0)" }, pair: false)
            var swaps = 0
            let started = monotonicSeconds()
            while monotonicSeconds() - started < 3.5 {
                var diff = WorkspaceUpdate()
                if swaps % 2 == 0 {
                    diff = WorkspaceUpdate(snapshotOf: churn)
                } else {
                    diff.deletedWorkspaces = WorkspaceUpdate(snapshotOf: churn).upsertedWorkspaces
                }
                try connection.send(diff)
                swaps += 1
                usleep(20_000)
            }
            let ending = load.waitForExit(timeout: 20)
            #expect(ending == .exited(0))
            let report = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            let sent = Self.figure(report, "Queries sent:")
            let completed = Self.figure(report, "Queries completed:")
            let lost = Self.figure(report, "Queries lost:")
            #expect(sent > 0, "\(report)")
            #expect(lost == 0, "\(report)")
            #expect(completed == sent, "\(report)")
            #expect(report.contains("NOERROR \(completed) (100.00%)"), "\(report)")
            // Under a sanitizer the server takes tens of milliseconds to build each swap's
            // snapshot, the stream's socket fills and `send` waits for it: fewer swaps.
            #expect(swaps > (IntegrationEnvironment.sanitizer == nil ? 50 : 20), "\(swaps) swaps in 3.5 s")
            // Every swap was applied: the SOA serial counts snapshots (1 + swaps). The last
            // ones may still be in the socket when the load ends; they are applied in order.
            let deadline = monotonicSeconds() + 10
            var serial = try Self.serial(server.port)
            while serial.map({ Int($0) < 1 + swaps }) ?? true, monotonicSeconds() < deadline {
                usleep(20_000)
                serial = try Self.serial(server.port)
            }
            #expect(serial.map(Int.init) == 1 + swaps)
        }
    }

    static func fixture(_ name: String) throws -> [UInt8] {
        try Hex.bytes(try String(contentsOfFile: IntegrationEnvironment.fixture("controlplane/\(name)"), encoding: .utf8))
    }

    /// Bytes from an encoder that is not coderdns's (tests/coderd-peer's, Go protowire;
    /// Fixtures/controlplane/README.md): a bug shared by our encoder and decoder cannot pass.
    @Test func messagesFromAnIndependentEncoderAreApplied() throws {
        let controlPlane = try ControlPlaneStandIn()
        try ServerProcess.withServer(snapshot: nil, arguments: ["--control-plane", controlPlane.endpoint]) { server in
            let connection = try controlPlane.accept()
            try connection.sendRaw(try Self.fixture("go-snapshot.hex"))
            #expect(Self.waitFor(server.port, "alpha.coder", .noError))
            // aaaaaaaa-0000-4000-8000-0000000000a1: the prefix, then bytes 6..15 of the UUID.
            #expect(try Self.reply(server.port, "main.alpha.me.coder").answerAddresses == [ipv6("fd60:627a:a42b:4000:8000::a1")])
            // beta is STOPPED and still lists its agents: they are served.
            for name in ["a.beta.me.coder", "b.beta.alice.coder"] {
                #expect(try Self.reply(server.port, name).rcode == .noError, "\(name)")
            }
            try connection.sendRaw(try Self.fixture("go-diff.hex"))
            #expect(Self.waitFor(server.port, "dev.gamma.me.coder", .noError))
            #expect(try Self.reply(server.port, "alpha.coder").rcode == .nameError)
            // Agent a renamed c keeps its address (bbbbbbbb-0000-4000-8000-0000000000b1).
            #expect(try Self.reply(server.port, "c.beta.alice.coder").answerAddresses == [ipv6("fd60:627a:a42b:4000:8000::b1")])
            #expect(try Self.reply(server.port, "b.beta.me.coder").rcode == .nameError)
            // One agent left: beta has its short name now.
            #expect(try Self.reply(server.port, "beta.coder").rcode == .noError)
            #expect(!connection.waitForClose(timeout: 0.3), "both messages applied, nothing rejected")
        }
    }

    static func figure(_ report: String, _ label: String) -> Int {
        guard let line = report.split(separator: "\n").first(where: { $0.contains(label) }) else { return -1 }
        let number = line.split(separator: ":", maxSplits: 1).last?.split(separator: " ").first ?? ""
        return Int(number) ?? -1
    }

    /// Connections that end before any message grow the redial delay (from 50 ms, doubling);
    /// one that delivers a message resets it, so its drop is redialed at once. Observed as the
    /// time from each drop to the next accept; only relations are asserted, not figures.
    @Test func aDeliveredMessageResetsTheBackoffAndEmptyConnectionsGrowIt() throws {
        let controlPlane = try ControlPlaneStandIn()
        try ServerProcess.withServer(snapshot: nil, arguments: ["--control-plane", controlPlane.endpoint]) { server in
            var connection = try controlPlane.accept()
            // Five connections that end with nothing sent: delays drawn from [25, 50] ms,
            // [50, 100], [100, 200], [200, 400], [400, 800].
            var emptyGaps: [Double] = []
            for _ in 0..<5 {
                let dropped = monotonicSeconds()
                connection.drop()
                connection = try controlPlane.accept()
                emptyGaps.append(monotonicSeconds() - dropped)
            }
            // This one delivers a snapshot; its drop is redialed within [25, 50] ms again
            // (without the reset: [800, 1600]).
            try connection.send(WorkspaceUpdate(snapshotOf: TestStates.state(["alpha"])))
            #expect(Self.waitFor(server.port, "alpha.coder", .noError))
            let dropped = monotonicSeconds()
            connection.drop()
            connection = try controlPlane.accept()
            let afterMessage = monotonicSeconds() - dropped
            #expect(emptyGaps[4] > 2 * emptyGaps[0], "gaps after empty connections: \(emptyGaps)")
            #expect(emptyGaps[4] > emptyGaps[2], "gaps after empty connections: \(emptyGaps)")
            #expect(afterMessage < emptyGaps[4] / 2, "after a message: \(afterMessage) s; after empty connections: \(emptyGaps)")
        }
    }

    /// Delimited framing's cap at its boundary: a message of exactly 64 MiB is accepted and
    /// applied; a length of 64 MiB + 1 is refused at its prefix, the connection closed and
    /// dialed again, and the old data keeps serving.
    @Test func aMessageOfExactly64MiBIsAppliedAndOneByteMoreIsRefused() throws {
        let controlPlane = try ControlPlaneStandIn()
        let metricsPort = IntegrationEnvironment.nextPort()
        let arguments = ["--control-plane", controlPlane.endpoint, "--metrics-listen", "127.0.0.1:\(metricsPort)"]
        try ServerProcess.withServer(snapshot: nil, arguments: arguments) { server in
            let connection = try controlPlane.accept()
            try connection.send(WorkspaceUpdate(snapshotOf: TestStates.state(["alpha"])))
            #expect(Self.waitFor(server.port, "alpha.coder", .noError))

            // A diff upserting beta, padded to 64 MiB with an unknown field (number 100, wire
            // type 2: tag 0xA2 0x06, a 4-byte length, zeros), which decoding skips.
            let cap = 64 << 20
            var message = WorkspaceUpdate(snapshotOf: TestStates.state(["beta"], pair: false)).serializedBytes()
            let padding = cap - message.count - 2 - 4
            message += [0xA2, 0x06]
            message += [UInt8(padding & 0x7F | 0x80), UInt8(padding >> 7 & 0x7F | 0x80), UInt8(padding >> 14 & 0x7F | 0x80), UInt8(padding >> 21)]
            message += [UInt8](repeating: 0, count: padding)
            #expect(message.count == cap)
            let framed = DelimitedFramer.frame(message)
            #expect(Array(framed.prefix(4)) == [0x80, 0x80, 0x80, 0x20], "the prefix says 64 MiB")
            try connection.sendRaw(framed)
            #expect(Self.waitFor(server.port, "beta.coder", .noError, timeout: 20), "\(server.standardError)")
            #expect(!connection.waitForClose(timeout: 0.3), "a 64 MiB message keeps the connection")

            // 64 MiB + 1: refused as soon as the prefix is read.
            try connection.sendRaw([0x81, 0x80, 0x80, 0x20])
            #expect(connection.waitForClose(timeout: 5), "a length over the cap closes the connection")
            #expect(server.waitForLogLine { $0.contains("message of \(cap + 1) bytes is over the \(cap)-byte cap") }, "\(server.standardError)")
            let again = try controlPlane.accept()
            #expect(again.request.isEmpty, "redialed with a fresh request")
            #expect(try Self.reply(server.port, "alpha.coder").rcode == .noError)
            #expect(try Self.reply(server.port, "beta.coder").rcode == .noError)
            // Counted as a rejected message, as bytes that do not decode are (issue 13: it was not).
            let samples = try ObservabilityTests.scrape(metricsPort).samples
            #expect(samples[#"coderdns_source_messages_rejected_total{kind="control-plane"}"#] == 1, "\(samples)")
            #expect(samples[#"coderdns_source_messages_applied_total{kind="control-plane"}"#] == 2, "\(samples)")
        }
    }

    /// The reverse-zone name of `address` (nibbles, least significant first).
    static func reverseName(_ address: IPv6Address) -> String {
        let hex = String(address.high, radix: 16).leftPadded(16) + String(address.low, radix: 16).leftPadded(16)
        return hex.reversed().map(String.init).joined(separator: ".") + ".ip6.arpa"
    }

    static func serial(_ port: UInt16) throws -> UInt32? {
        guard case .soa(let data) = try reply(port, "coder", .soa).answers.first?.data else { return nil }
        return data.serial
    }

    /// Diffs are published as a layer over the last whole build (the server counts them):
    /// renames, a deletion, an agent added to a single-agent workspace and an agent moved
    /// answer at once, forward and reverse, exactly as a whole build would; once the stream is
    /// quiet the layer is folded into a whole build with the same records and the same serial.
    @Test func diffsAnswerAtOnceAsLayersAndAQuietStreamFoldsThemKeepingTheSerial() throws {
        let controlPlane = try ControlPlaneStandIn()
        let metricsPort = IntegrationEnvironment.nextPort()
        let arguments = ["--control-plane", controlPlane.endpoint, "--metrics-listen", "127.0.0.1:\(metricsPort)"]
        try ServerProcess.withServer(snapshot: nil, arguments: arguments) { server in
            let connection = try controlPlane.accept()
            let names = (0..<40).map { "w\($0)" }
            try connection.send(WorkspaceUpdate(snapshotOf: TestStates.state(names)))
            #expect(Self.waitFor(server.port, "w39.coder", .noError))
            let id = { (name: String, kind: UInt64) in IdentifierField(TestStates.identifier(name, kind)) }

            var rename = WorkspaceUpdate()
            rename.upsertedWorkspaces = [.init(id: id("w1", 1), name: "renamed", status: .running)]
            try connection.send(rename)
            #expect(Self.waitFor(server.port, "renamed.coder", .noError))
            #expect(try Self.reply(server.port, "w1.coder").rcode == .nameError)
            #expect(try Self.reply(server.port, "main.w1.me.coder").rcode == .nameError)
            let movedAddress = ServiceAddress.agent(TestStates.identifier("w1", 2))
            let pointer = try Self.reply(server.port, Self.reverseName(movedAddress), .ptr)
            #expect(pointer.answers.first?.data == .ptr(try DomainName("main.renamed.alice.coder")), "\(pointer.answers)")

            var more = WorkspaceUpdate()
            more.deletedWorkspaces = [.init(id: id("w2", 1), name: "w2", status: .running)]
            // w3 gets a second agent: `w3.coder` is no longer a host, its agents are.
            more.upsertedAgents = [
                .init(id: id("w3-gpu", 2), name: "gpu", workspaceID: id("w3", 1)),
                // w4's agent moves to w5, which then has two.
                .init(id: id("w4", 2), name: "moved", workspaceID: id("w5", 1)),
            ]
            try connection.send(more)
            #expect(Self.waitFor(server.port, "gpu.w3.me.coder", .noError))
            #expect(try Self.reply(server.port, "w2.coder").rcode == .nameError)
            #expect(try Self.reply(server.port, "main.w2.alice.coder").rcode == .nameError)
            let w3 = try Self.reply(server.port, "w3.coder")
            #expect(w3.rcode == .nameError, "w3 has two agents now")
            #expect(try Self.reply(server.port, "moved.w5.me.coder").answers.count == 1)
            #expect(try Self.reply(server.port, "main.w4.me.coder").rcode == .nameError)
            #expect(try Self.reply(server.port, "w4.coder").rcode == .nameError, "w4 has no agent left")
            #expect(try Self.reply(server.port, "main.w0.me.coder").answers.count == 1, "an untouched name")
            let reverse = try Self.reply(server.port, Self.reverseName(ServiceAddress.agent(TestStates.identifier("w4", 2))), .ptr)
            #expect(reverse.answers.first?.data == .ptr(try DomainName("moved.w5.alice.coder")), "\(reverse.answers)")

            let samples = try ObservabilityTests.scrape(metricsPort).samples
            #expect(samples[#"coderdns_source_layered_snapshots_total{kind="control-plane"}"#] == 2, "\(samples)")
            #expect(samples["coderdns_snapshot_layered"] == 1, "\(samples)")
            let serial = try Self.serial(server.port)
            #expect(serial == 3, "one snapshot and two diffs")
            // Quiet for over a second: folded into a whole build. Same answers, same serial.
            sleep(seconds: 1.6)
            #expect(try ObservabilityTests.scrape(metricsPort).samples["coderdns_snapshot_layered"] == 0, "folded")
            #expect(try Self.serial(server.port) == serial)
            #expect(try Self.reply(server.port, "renamed.coder").rcode == .noError)
            #expect(try Self.reply(server.port, "w1.coder").rcode == .nameError)
            #expect(try Self.reply(server.port, "moved.w5.me.coder").answers.count == 1)
            #expect(try Self.reply(server.port, "w3.coder").rcode == .nameError)
            let folded = try Self.reply(server.port, Self.reverseName(movedAddress), .ptr)
            #expect(folded.answers.first?.data == .ptr(try DomainName("main.renamed.alice.coder")))

            // A diff after the fold is layered again, on the new whole build.
            var again = WorkspaceUpdate()
            again.upsertedWorkspaces = [.init(id: id("w6", 1), name: "w6-new", status: .running)]
            try connection.send(again)
            #expect(Self.waitFor(server.port, "w6-new.coder", .noError))
            let after = try ObservabilityTests.scrape(metricsPort).samples
            #expect(after[#"coderdns_source_layered_snapshots_total{kind="control-plane"}"#] == 3, "\(after)")
            #expect(try Self.serial(server.port) == 4)
        }
    }

    @Test func afterMaxStaleWithoutAConnectionTheStateIsNoLongerServed() throws {
        let controlPlane = try ControlPlaneStandIn()
        try ServerProcess.withServer(snapshot: nil, arguments: ["--control-plane", controlPlane.endpoint, "--max-stale", "1s"]) { server in
            let connection = try controlPlane.accept()
            try connection.send(WorkspaceUpdate(snapshotOf: TestStates.state(["alpha"])))
            #expect(Self.waitFor(server.port, "alpha.coder", .noError))
            // Connected but silent: still served, however long.
            sleep(seconds: 1.5)
            #expect(try Self.reply(server.port, "alpha.coder").rcode == .noError)
            controlPlane.disappear()
            connection.drop()
            #expect(try Self.reply(server.port, "alpha.coder").rcode == .noError)
            #expect(Self.waitFor(server.port, "alpha.coder", .serverFailure, timeout: 4), "stderr:\n\(server.standardError)")
            // A new session's snapshot brings the names back.
            try controlPlane.listen()
            let again = try controlPlane.accept(timeout: 15)
            try again.send(WorkspaceUpdate(snapshotOf: TestStates.state(["alpha"])))
            #expect(Self.waitFor(server.port, "alpha.coder", .noError))
        }
    }
}

extension String {
    /// Zeros in front, to `width` characters.
    fileprivate func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
