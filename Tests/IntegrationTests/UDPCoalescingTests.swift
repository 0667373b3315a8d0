import DNSWire
import Foundation
import Testing

/// Timer reads of a busy UDP socket (docs/architecture.md), on the real binary: the threshold
/// is lowered so a modest dnsperf load crosses it.
@Suite("UDP reads on a timer under load", .serialized)
struct UDPCoalescingTests {
    @Test func aBusySocketIsReadOnATimerAndEveryQueryIsAnswered() throws {
        let dnsperf = "/usr/bin/dnsperf"
        try #require(FileManager.default.isExecutableFile(atPath: dnsperf), "dnsperf is not installed (scripts/setup installs it)")
        let arguments = ["--workers", "1", "--udp-coalesce-usec", "2000", "--udp-coalesce-above", "300"]
        let server = try ServerProcess.serve(arguments: arguments)
        defer { server.stop() }
        do {
            let directory = try IntegrationEnvironment.makeTemporaryDirectory()
            let queries = directory.appendingPathComponent("queries").path
            try ["myws.coder AAAA", "main.dev.me.coder AAAA", "nope.coder AAAA"].joined(separator: "\n")
                .write(toFile: queries, atomically: true, encoding: .utf8)
            let output = directory.appendingPathComponent("dnsperf.out").path
            // 2,000 queries a second for 2 s: well over the 300 a second threshold.
            let load = try ChildProcess(
                executable: dnsperf,
                arguments: ["-s", "127.0.0.1", "-p", "\(server.port)", "-d", queries, "-l", "2", "-Q", "2000", "-t", "2"],
                standardOutput: output, standardError: output)
            #expect(load.waitForExit(timeout: 20) == .exited(0))
            let report = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            let sent = ControlPlaneIntegrationTests.figure(report, "Queries sent:")
            let lost = ControlPlaneIntegrationTests.figure(report, "Queries lost:")
            #expect(sent > 3000, "\(report)")
            #expect(lost == 0, "\(report)")
            // A 2 ms timer shows in the latency: some queries waited for it.
            // "Average Latency (s):  0.000057 (min 0.000027, max 0.000230)"
            let line = report.split(separator: "\n").first { $0.contains("Average Latency") } ?? ""
            let maximum = Double(line.split(separator: "max ").last?.split(separator: ")").first ?? "") ?? 0
            #expect(maximum >= 0.001, "\(line)")

            // Idle again: a rate window later the socket is read on readiness again.
            usleep(300_000)
            let socket = try RawSocket(.udp, to: .ipv4, port: server.port)
            #expect(try socket.exchange(try DNSQuery.bytes(id: 1, name: "myws.coder", type: .aaaa)).rcode == .noError)
            #expect(server.isRunning)

            server.stop()
            let stopped = server.standardErrorLines.first { $0.contains("stopped") } ?? ""
            let switches = Int(stopped.split(separator: "udp_coalescing_switches=").last?.split(separator: " ").first ?? "") ?? 0
            // Into timer reads under load, and out again when idle.
            #expect(switches >= 2, "\(stopped)")
        }
    }

    @Test func withCoalescingOffTheSocketNeverSwitches() throws {
        let server = try ServerProcess.serve(arguments: ["--workers", "1", "--udp-coalesce-usec", "0", "--udp-coalesce-above", "1"])
        defer { server.stop() }
        do {
            let socket = try RawSocket(.udp, to: .ipv4, port: server.port)
            for id in 0..<200 {
                #expect(try socket.exchange(try DNSQuery.bytes(id: UInt16(id), name: "myws.coder", type: .aaaa)).rcode == .noError)
            }
            server.stop()
            let stopped = server.standardErrorLines.first { $0.contains("stopped") } ?? ""
            #expect(stopped.contains("udp_coalescing_switches=0"), "\(stopped)")
        }
    }
}
