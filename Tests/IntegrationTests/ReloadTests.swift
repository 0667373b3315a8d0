import Foundation
import Testing

/// SIGHUP re-reads `--snapshot`: a good file replaces the data whole, a bad one is rejected
/// and the old data keeps serving.
@Suite("Reloading the state file on SIGHUP")
struct ReloadTests {
    /// `Fixtures/reload-snapshot.json`: workspace fresh, agent main
    /// 0badc0de-1234-4567-89ab-cdef01234567.
    static let freshMain = "fd60:627a:a42b:4567:89ab:cdef:123:4567"

    /// A temporary copy of the demo state, the path the server is started with.
    final class StateFile {
        let directory: URL
        let path: String

        init() throws {
            directory = try IntegrationEnvironment.makeTemporaryDirectory()
            path = directory.appendingPathComponent("state.json").path
            try replace(withContentsOf: IntegrationEnvironment.demoSnapshot)
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        /// Replaces the file in one rename, as a control plane writing it would.
        func replace(with data: Data) throws {
            let staging = directory.appendingPathComponent("state.json.new")
            try data.write(to: staging)
            guard rename(staging.path, path) == 0 else { throw SocketError("rename") }
        }

        func replace(withContentsOf source: String) throws {
            try replace(with: try Data(contentsOf: URL(fileURLWithPath: source)))
        }
    }

    static func serial(_ server: ServerProcess) throws -> Int? {
        Expect.serial(try server.dig("coder", "SOA").answer.first)
    }

    @Test func aSIGHUPServesTheReplacedStateFile() throws {
        let state = try StateFile()
        try ServerProcess.withServer(snapshot: state.path) { server in
            let before = try server.dig("myws.coder", "AAAA")
            #expect(before.answer.count == 1 && Expect.sameAddress(before.answer[0].data, Demo.mywsMain), "\(before)")
            let firstSerial = try Self.serial(server)
            let serialBefore = try #require(firstSerial, "no SOA serial")

            try state.replace(withContentsOf: IntegrationEnvironment.fixture("reload-snapshot.json"))
            server.send(signal: SIGHUP)
            #expect(
                server.waitForLogLine { $0.contains("reloaded workspace state") },
                "no reload logged; stderr:\n\(server.standardError)")

            let fresh = try server.dig("fresh.coder", "AAAA")
            #expect(fresh.status == "NOERROR", "\(fresh)")
            #expect(fresh.answer.count == 1 && Expect.sameAddress(fresh.answer[0].data, Self.freshMain), "\(fresh)")
            let owned = try server.dig("main.fresh.alice.coder", "AAAA")
            #expect(owned.answer.count == 1, "\(owned)")
            let reverse = try server.dig("-x", Self.freshMain)
            #expect(reverse.answer.map(\.data) == ["main.fresh.alice.coder."], "\(reverse)")

            // The old names are gone with the old file.
            let gone = try server.dig("myws.coder", "AAAA")
            #expect(gone.status == "NXDOMAIN", "\(gone)")
            let goneReverse = try server.dig("-x", Demo.mywsMain)
            #expect(goneReverse.status == "NXDOMAIN", "\(goneReverse)")

            let serialAfter = try Self.serial(server)
            #expect(serialAfter == serialBefore + 1, "the SOA serial counts snapshots")
        }
    }

    @Test func aSIGHUPWithABrokenFileKeepsServingTheOldState() throws {
        let state = try StateFile()
        try ServerProcess.withServer(snapshot: state.path) { server in
            let firstSerial = try Self.serial(server)
            let serialBefore = try #require(firstSerial, "no SOA serial")

            try state.replace(with: Data("{\"workspaces\": [ this is not JSON".utf8))
            server.send(signal: SIGHUP)
            #expect(
                server.waitForLogLine { $0.contains("reload rejected") },
                "no rejection logged; stderr:\n\(server.standardError)")

            let still = try server.dig("myws.coder", "AAAA")
            #expect(still.status == "NOERROR", "\(still)")
            #expect(still.answer.count == 1 && Expect.sameAddress(still.answer[0].data, Demo.mywsMain), "\(still)")
            let sentinel = try server.dig(Demo.sentinel, "AAAA")
            #expect(sentinel.status == "NOERROR", "\(sentinel)")
            let serialAfter = try Self.serial(server)
            #expect(serialAfter == serialBefore, "a rejected file builds no snapshot")

            // A good file after the bad one is taken up again.
            try state.replace(withContentsOf: IntegrationEnvironment.fixture("reload-snapshot.json"))
            server.send(signal: SIGHUP)
            #expect(server.waitForLogLine { $0.contains("reloaded workspace state") }, "\(server.standardError)")
            let fresh = try server.dig("fresh.coder", "AAAA")
            #expect(fresh.status == "NOERROR", "\(fresh)")
            // The rejected reload used up no serial: SERIAL counts the snapshots built (issue 13).
            #expect(try Self.serial(server) == serialBefore + 1, "the serial after a rejected and then a good reload")
        }
    }

    @Test func aSIGHUPWithAStateFileThatBreaksTheRulesKeepsTheOldState() throws {
        let state = try StateFile()
        try ServerProcess.withServer(snapshot: state.path) { server in
            try state.replace(withContentsOf: IntegrationEnvironment.fixture("bad-state-duplicate-agent-id.json"))
            server.send(signal: SIGHUP)
            #expect(server.waitForLogLine { $0.contains("reload rejected") && $0.contains("duplicate agent id") }, "\(server.standardError)")
            let still = try server.dig("main.dev.me.coder", "AAAA")
            #expect(still.status == "NOERROR" && still.answer.count == 1, "\(still)")
        }
    }

    /// See ServerLifecycleTests.sigtermStopsTheServerEvenWhenItsParentHadSignalsBlocked.
    @Test func aSIGHUPReloadsEvenWhenTheServersParentHadSignalsBlocked() throws {
        let state = try StateFile()
        let server = try ServerProcess.serve(snapshot: state.path, blockedSignals: [SIGTERM, SIGHUP, SIGINT])
        defer { server.stop() }
        try state.replace(withContentsOf: IntegrationEnvironment.fixture("reload-snapshot.json"))
        server.send(signal: SIGHUP)
        #expect(
            server.waitForLogLine(timeout: 3) { $0.contains("reloaded workspace state") },
            "no reload logged 3 s after SIGHUP; stderr:\n\(server.standardError)")
        let fresh = try server.dig("fresh.coder", "AAAA")
        #expect(fresh.status == "NOERROR", "\(fresh)")
    }
}
