import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Where the binary, the fixtures and the system tools are, and per-process counters for
/// ports, temporary directories and namespace names.
enum IntegrationEnvironment {
    /// The repository root: this file is `<root>/Tests/IntegrationTests/IntegrationEnvironment.swift`.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    static func fixture(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("Fixtures").appendingPathComponent(name).path
    }

    /// `Fixtures/demo-snapshot.json`: myws (agent main), dev (agents main and gpu) and a
    /// stopped workspace without agents; served with `--owner alice`.
    static var demoSnapshot: String { fixture("demo-snapshot.json") }

    /// `CODERDNS_BINARY`, or `coderdns` next to the test bundle (it runs from the build's bin
    /// folder).
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["CODERDNS_BINARY"], !path.isEmpty {
            return path
        }
        let bundle = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: bundle).deletingLastPathComponent().appendingPathComponent("coderdns").path
    }()

    static let dig = "/usr/bin/dig"
    static let kdig = "/usr/bin/kdig"
    static let ip: String =
        ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].first { FileManager.default.isExecutableFile(atPath: $0) } ?? "/usr/sbin/ip"

    /// The sanitizer this test process was built with (`scripts/sanitize`; the binary next to
    /// it was built with the same), found by its runtime's entry point; nil in a normal build.
    /// A few tests with throughput figures expect less of a build that runs several times
    /// slower; none weakens what it checks for correctness.
    static let sanitizer: String? = {
        if dlsym(nil, "__tsan_init") != nil { return "thread" }
        if dlsym(nil, "__asan_init") != nil { return "address" }
        return nil
    }()

    static var isRoot: Bool { geteuid() == 0 }
    /// CI sets `CODERDNS_REQUIRE_ROOT_TESTS=1` so that a missing root is a failure, not a skip.
    static var rootTestsRequired: Bool { ProcessInfo.processInfo.environment["CODERDNS_REQUIRE_ROOT_TESTS"] == "1" }

    private static let counter = Atomic<Int>(0)

    /// A number unique within this test process.
    static func uniqueNumber() -> Int { counter.add(1, ordering: .relaxed).newValue }

    private static let portCursor = Atomic<Int>(Int.random(in: 0..<12_000))

    /// A port in 20000..<32000: below Linux's ephemeral range, so the clients' own sockets do
    /// not take it. Sequential within the process; another process may still hold one, so
    /// servers retry on EADDRINUSE.
    static func nextPort() -> UInt16 {
        UInt16(20_000 + portCursor.add(1, ordering: .relaxed).newValue % 12_000)
    }

    /// A new empty directory under the temporary directory; the caller removes it.
    static func makeTemporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("coderdns-it-\(getpid())-\(uniqueNumber())", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Seconds on the monotonic clock.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

func sleep(seconds: Double) {
    usleep(useconds_t(seconds * 1_000_000))
}

/// A failure of the test harness itself (not of the server under test).
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
