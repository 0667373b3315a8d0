import ControlPlane
import DNSWire
import Foundation
import RecordStore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// docs/control-plane.md's start-up table and the cache's rules, on the real binary: which
/// state a server starts with, `--max-stale` across a restart, how often the cache is
/// written, and the copy kept beside it.
@Suite("Which state the server starts with, and the cache on disk, on the real binary", .serialized)
struct StartupTableTests {
    typealias CP = ControlPlaneIntegrationTests

    /// A `--control-plane` that every dial fails on (no such socket): the server keeps
    /// whatever it started with.
    static func nowhere() throws -> String {
        "unix:" + (try IntegrationEnvironment.makeTemporaryDirectory().appendingPathComponent("nobody.sock").path)
    }

    /// Writes `state` as the binary would, saved `age` seconds ago, to `file` in `directory`.
    static func writeCache(_ state: WorkspaceState, age: UInt64 = 0, to directory: String, file: String = "state.cache") throws {
        let bytes = StateCache.encode(state, savedAt: UInt64(time(nil)) - age)
        try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + file))
    }

    static func loadCache(_ directory: String) throws -> StateCache.LoadResult {
        StateCache(directory: directory).load(configuration: try ZoneConfiguration(suffix: "coder", owner: "alice"))
    }

    static func workspaceNames(_ state: WorkspaceState?) -> Set<String> {
        Set(state?.workspaces.values.map(\.name) ?? [])
    }

    static func rcode(_ port: UInt16, _ name: String) -> RCode? { try? CP.reply(port, name).rcode }

    // MARK: - The start-up table

    /// `--control-plane` and `--state-dir` with a good cache: the cache is served, not
    /// `--snapshot` (the demo state: myws, dev).
    @Test func theCacheWinsOverTheSnapshotFile() throws {
        let directory = try CP.stateDirectory()
        try Self.writeCache(TestStates.state(["alpha"]), to: directory)
        let arguments = ["--control-plane", try Self.nowhere(), "--state-dir", directory]
        try ServerProcess.withServer(snapshot: IntegrationEnvironment.demoSnapshot, arguments: arguments) { server in
            #expect(Self.rcode(server.port, "alpha.coder") == .noError, "\(server.standardError)")
            #expect(Self.rcode(server.port, "myws.coder") == .nameError, "the file's names are not served")
            #expect(server.standardError.contains("loaded the state cache"))
        }
    }

    /// A cache with no good copy (state.cache corrupt, no state.cache.prev) is reported, and
    /// `--snapshot` serves instead.
    @Test func aBadCacheFallsBackToTheSnapshotFile() throws {
        let directory = try CP.stateDirectory()
        try Data("CDNSSTAT this is not a cache".utf8).write(to: URL(fileURLWithPath: directory + "/state.cache"))
        let arguments = ["--control-plane", try Self.nowhere(), "--state-dir", directory]
        try ServerProcess.withServer(snapshot: IntegrationEnvironment.demoSnapshot, arguments: arguments) { server in
            #expect(Self.rcode(server.port, "myws.coder") == .noError, "\(server.standardError)")
            #expect(Self.rcode(server.port, "main.dev.me.coder") == .noError)
            #expect(server.standardErrorLines.contains { $0.contains(" error ") && $0.contains("ignoring a bad state cache") })
        }
    }

    /// A bad `--snapshot` is a configuration error: fatal (one line, exit status 2) even though
    /// a good cache would have been served instead of it.
    @Test func aBadSnapshotFileIsFatalEvenWhenTheCacheWouldServe() throws {
        let directory = try CP.stateDirectory()
        try Self.writeCache(TestStates.state(["alpha"]), to: directory)
        let bad = IntegrationEnvironment.fixture("bad-state-not-json.json")
        let port = IntegrationEnvironment.nextPort()
        let run = try ServerLifecycleTests.runToExit([
            "serve", "--snapshot", bad, "--owner", "alice", "--listen", "127.0.0.1:\(port)", "--control-plane", try Self.nowhere(),
            "--state-dir", directory,
        ])
        #expect(run.ending == .exited(2), "\(run.server.endDescription); stderr: \(run.lines)")
        #expect(run.lines.count == 1, "\(run.lines)")
        #expect(run.lines.first?.hasPrefix("coderdns: \(bad): ") == true, "\(run.lines)")
    }

    /// With a control plane the stream owns the state: SIGHUP does not re-read `--snapshot`,
    /// even before the stream has sent anything.
    @Test func aSIGHUPWithAControlPlaneDoesNotRereadTheSnapshotFile() throws {
        let file = try ReloadTests.StateFile()
        let controlPlane = try ControlPlaneStandIn()
        try ServerProcess.withServer(snapshot: file.path, arguments: ["--control-plane", controlPlane.endpoint]) { server in
            let connection = try controlPlane.accept()
            #expect(Self.rcode(server.port, "myws.coder") == .noError)
            try file.replace(withContentsOf: IntegrationEnvironment.fixture("reload-snapshot.json"))
            server.send(signal: SIGHUP)
            // A reload takes milliseconds (ReloadTests); give it a generous second.
            sleep(seconds: 1)
            #expect(Self.rcode(server.port, "fresh.coder") == .nameError, "the replaced file was read")
            #expect(Self.rcode(server.port, "myws.coder") == .noError)
            #expect(!server.standardError.contains("reloaded workspace state"), "\(server.standardError)")
            #expect(!connection.waitForClose(timeout: 0.1), "SIGHUP leaves the stream alone")
        }
    }

    /// The binary writes `state.cache.prev` (the copy before the last write) and, when
    /// `state.cache` is corrupt, starts from it.
    @Test func theBinaryStartsFromThePreviousCopyWhenTheCacheIsCorrupt() throws {
        let controlPlane = try ControlPlaneStandIn()
        let directory = try CP.stateDirectory()
        let arguments = ["--control-plane", controlPlane.endpoint, "--state-dir", directory]
        let first = try ServerProcess.serve(snapshot: nil, arguments: arguments)
        defer { first.stop() }
        let connection = try controlPlane.accept()
        try connection.send(WorkspaceUpdate(snapshotOf: TestStates.state(["alpha"], pair: false)))
        #expect(CP.waitFor(first.port, "alpha.coder", .noError))
        // Then a diff: alpha goes, beta comes. Its write (within 250 ms) keeps alpha's as .prev.
        var diff = WorkspaceUpdate(snapshotOf: TestStates.state(["beta"], pair: false))
        diff.deletedWorkspaces = [WorkspaceUpdate.Workspace(id: IdentifierField(TestStates.identifier("alpha", 1)))]
        try connection.send(diff)
        #expect(CP.waitFor(first.port, "beta.coder", .noError))
        let deadline = monotonicSeconds() + 5
        while Self.workspaceNames(try Self.loadCache(directory).state) != ["beta"] && monotonicSeconds() < deadline { usleep(20_000) }
        #expect(Self.workspaceNames(try Self.loadCache(directory).state) == ["beta"])
        first.send(signal: SIGTERM)
        #expect(first.waitForExit(timeout: 5) == .exited(0))
        controlPlane.disappear()

        // state.cache torn in half: the binary serves state.cache.prev, the state before.
        let current = directory + "/state.cache"
        let whole = try Data(contentsOf: URL(fileURLWithPath: current))
        try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: current))
        try ServerProcess.withServer(snapshot: nil, arguments: arguments) { server in
            #expect(Self.rcode(server.port, "alpha.coder") == .noError, "\(server.standardError)")
            #expect(Self.rcode(server.port, "beta.coder") == .nameError)
            #expect(server.standardErrorLines.contains { $0.contains("ignoring a bad state cache") && $0.contains(current) })
            #expect(server.standardErrorLines.contains { $0.contains("loaded the state cache") && $0.contains("state.cache.prev") })
        }
    }

    // MARK: - --max-stale across a restart

    /// The cache's age counts toward `--max-stale`: a cache older than the limit is not
    /// served after a restart (SERVFAIL, never NXDOMAIN).
    @Test func aCacheOlderThanMaxStaleIsNotServedAfterARestart() throws {
        let directory = try CP.stateDirectory()
        try Self.writeCache(TestStates.state(["alpha"]), age: 3600, to: directory)
        let arguments = ["--control-plane", try Self.nowhere(), "--state-dir", directory, "--max-stale", "60s"]
        try ServerProcess.withServer(snapshot: nil, arguments: arguments) { server in
            #expect(Self.rcode(server.port, "alpha.coder") == .serverFailure, "\(server.standardError)")
            #expect(Self.rcode(server.port, "main.alpha.me.coder") == .serverFailure)
            #expect(server.standardError.contains("older than --max-stale"))
        }
    }

    /// A cache younger than `--max-stale` is served, and dropped once the rest of the limit
    /// passes: well before the whole limit counted from the restart.
    @Test func aYoungerCacheIsServedUntilTheRestOfMaxStalePasses() throws {
        let directory = try CP.stateDirectory()
        // Saved 9 s ago (whole seconds), limit 12 s: about 3 s left.
        try Self.writeCache(TestStates.state(["alpha"]), age: 9, to: directory)
        let arguments = ["--control-plane", try Self.nowhere(), "--state-dir", directory, "--max-stale", "12s"]
        let started = monotonicSeconds()
        try ServerProcess.withServer(snapshot: nil, arguments: arguments) { server in
            #expect(Self.rcode(server.port, "alpha.coder") == .noError, "\(server.standardError)")
            // Dropped within about 3 s; counted from the restart alone it would take 12.
            #expect(CP.waitFor(server.port, "alpha.coder", .serverFailure, timeout: 10 - (monotonicSeconds() - started)))
            #expect(monotonicSeconds() - started < 10)
            #expect(server.standardError.contains("longer than --max-stale"))
        }
    }

    // MARK: - Cache writes

    static func metric(_ port: UInt16, _ key: String) throws -> Double {
        try ObservabilityTests.scrape(port).samples[key] ?? -1
    }

    /// A hundred quick diffs are written in a few coalesced writes (at most one every 250 ms),
    /// and the last one is on disk once they stop.
    @Test func manyQuickUpdatesAreWrittenInAFewCoalescedWrites() throws {
        let controlPlane = try ControlPlaneStandIn()
        let directory = try CP.stateDirectory()
        let metricsPort = IntegrationEnvironment.nextPort()
        let arguments = [
            "--control-plane", controlPlane.endpoint, "--state-dir", directory, "--metrics-listen", "127.0.0.1:\(metricsPort)",
        ]
        try ServerProcess.withServer(snapshot: nil, arguments: arguments) { server in
            let connection = try controlPlane.accept()
            try connection.send(WorkspaceUpdate(snapshotOf: TestStates.state(["alpha"])))
            #expect(CP.waitFor(server.port, "alpha.coder", .noError))
            let updates = 100
            let started = monotonicSeconds()
            for index in 0..<updates {
                try connection.send(WorkspaceUpdate(snapshotOf: TestStates.state(["w\(index)"], pair: false)))
                usleep(10_000)
            }
            let sending = monotonicSeconds() - started
            #expect(CP.waitFor(server.port, "w\(updates - 1).coder", .noError))
            let applied = #"coderdns_source_messages_applied_total{kind="control-plane"}"#
            let deadline = monotonicSeconds() + 5
            while try Self.metric(metricsPort, applied) < Double(updates + 1) && monotonicSeconds() < deadline { usleep(20_000) }
            #expect(try Self.metric(metricsPort, applied) == Double(updates + 1))
            // Let the last pending write happen.
            sleep(seconds: 0.6)
            let writes = try Self.metric(metricsPort, "coderdns_cache_writes_total")
            // One write per 250 ms over the time the updates took, the first and the last.
            #expect(writes >= 2, "writes: \(writes)")
            #expect(writes <= (sending / 0.25).rounded(.up) + 3, "writes: \(writes) for \(updates) updates over \(sending) s")
            #expect(writes < Double(updates) / 4, "writes: \(writes)")
            let cached = Self.workspaceNames(try Self.loadCache(directory).state)
            #expect(cached.contains("w\(updates - 1)") && cached.contains("alpha"), "\(cached.sorted())")
        }
    }

    /// An update applied just before SIGTERM, whose write the 250 ms coalescing still holds
    /// back, is in the cache after the server exits.
    @Test func sigtermFlushesAPendingCacheWrite() throws {
        let controlPlane = try ControlPlaneStandIn()
        let directory = try CP.stateDirectory()
        let server = try ServerProcess.serve(snapshot: nil, arguments: ["--control-plane", controlPlane.endpoint, "--state-dir", directory])
        defer { server.stop() }
        let connection = try controlPlane.accept()
        // The snapshot is written at once; the diff right after it waits for the 250 ms to pass.
        try connection.send(WorkspaceUpdate(snapshotOf: TestStates.state(["alpha"], pair: false)))
        #expect(CP.waitFor(server.port, "alpha.coder", .noError))
        // A diff whose name is not in the cache yet: its write is pending. (Should the machine
        // be slow enough for the write to come first, another diff follows right after it.)
        var last = ""
        for attempt in 0..<5 {
            last = "omega\(attempt)"
            try connection.send(WorkspaceUpdate(snapshotOf: TestStates.state([last], pair: false)))
            #expect(CP.waitFor(server.port, "\(last).coder", .noError))
            if !Self.workspaceNames(try Self.loadCache(directory).state).contains(last) { break }
        }
        server.send(signal: SIGTERM)
        #expect(server.waitForExit(timeout: 5) == .exited(0), "\(server.standardError)")
        let cached = Self.workspaceNames(try Self.loadCache(directory).state)
        #expect(cached.contains("alpha") && cached.contains(last), "\(cached.sorted())")
    }
}
