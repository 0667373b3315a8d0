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
        let metricsPort = IntegrationEnvironment.nextPort()
        let arguments = [
            "--workers", "1", "--udp-coalesce-usec", "2000", "--udp-coalesce-above", "300", "--metrics-listen", "127.0.0.1:\(metricsPort)",
            "--control-socket", "none",
        ]
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
            #expect(sent > 0, "\(report)")
            #expect(lost == 0, "\(report)")

            // Idle again: a rate window later the socket is read on readiness again.
            usleep(300_000)
            let socket = try RawSocket(.udp, to: .ipv4, port: server.port)
            #expect(try socket.exchange(try DNSQuery.bytes(id: 1, name: "myws.coder", type: .aaaa)).rcode == .noError)
            #expect(server.isRunning)
            // The same switches, seen while serving.
            let scraped = try ObservabilityTests.scrape(metricsPort).samples["coderdns_udp_coalescing_switches_total"] ?? 0
            #expect(scraped >= 2)

            server.stop()
            let stopped = server.standardErrorLines.first { $0.contains("stopped") } ?? ""
            let switches = Int(stopped.split(separator: "udp_coalescing_switches=").last?.split(separator: " ").first ?? "") ?? 0
            // Into timer reads under load, and out again when idle.
            #expect(switches >= 2, "\(stopped)")
        }
    }

    /// 100 queries spread over well over a rate window (50 ms), at a threshold of one a second:
    /// with the timer allowed (`--udp-coalesce-usec 100`) the socket switches, so the same load
    /// with `--udp-coalesce-usec 0` shows that the flag turns it off.
    @Test(arguments: [(usec: "0", switches: false), (usec: "100", switches: true)])
    func theSocketSwitchesOnlyWhenCoalescingIsOn(usec: String, switches: Bool) throws {
        let server = try ServerProcess.serve(arguments: ["--workers", "1", "--udp-coalesce-usec", usec, "--udp-coalesce-above", "1"])
        defer { server.stop() }
        let socket = try RawSocket(.udp, to: .ipv4, port: server.port)
        for id in 0..<100 {
            #expect(try socket.exchange(try DNSQuery.bytes(id: UInt16(id), name: "myws.coder", type: .aaaa)).rcode == .noError)
            usleep(3_000)
        }
        server.stop()
        let stopped = server.standardErrorLines.first { $0.contains("stopped") } ?? ""
        let count = Int(stopped.split(separator: "udp_coalescing_switches=").last?.split(separator: " ").first ?? "") ?? -1
        if switches {
            #expect(count >= 1, "\(stopped)")
        } else {
            #expect(count == 0, "\(stopped)")
        }
    }
}
