import DNSWire
import Testing

/// `coderdns doctor` against a real coderdns on a loopback port, and against nothing.
///
/// These run with `--skip-os-routing`: on the test machine the OS resolver does not route
/// `.coder` anywhere, and asking it would send the sentinel's name to the machine's own
/// upstream. The OS-routing half runs inside the systemd-resolved test
/// (`tests/resolved/run`), where resolved routes `~coder` to coderdns on its real address.
@Suite("coderdns doctor")
struct DoctorTests {
    /// Runs `coderdns doctor --skip-os-routing` with `arguments`.
    static func doctor(_ arguments: [String]) throws -> CommandOutput {
        try CommandRunner.run(IntegrationEnvironment.binary, ["doctor", "--skip-os-routing", "--timeout", "1"] + arguments)
    }

    static func serverText(_ address: LoopbackAddress, port: UInt16) -> String {
        address == .ipv6 ? "[::1]:\(port)" : "127.0.0.1:\(port)"
    }

    /// The lines that start with `tag` (`ok`, `FAIL`, `warn`, `info`).
    static func lines(_ output: CommandOutput, tagged tag: String) -> [String] {
        output.standardOutput.split(separator: "\n").map(String.init).filter { $0.hasPrefix(tag + " ") }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func aHealthyServerPassesEveryCheckOverUDPAndTCPAndExitsZero(address: LoopbackAddress) throws {
        try ServerProcess.withServer { server in
            let output = try Self.doctor(["--server", Self.serverText(address, port: server.port)])
            #expect(output.status == 0, "\(output.summary)")
            let ok = Self.lines(output, tagged: "ok")
            #expect(ok.contains { $0.contains("UDP:") && $0.contains("NOERROR") }, "\(output.summary)")
            #expect(ok.contains { $0.contains("TCP:") && $0.contains("NOERROR") }, "\(output.summary)")
            #expect(ok.contains { $0.contains("EDNS:") }, "\(output.summary)")
            #expect(ok.contains { $0.contains("sentinel:") && $0.contains("-> \(Demo.serviceAddress)") }, "\(output.summary)")
            #expect(Self.lines(output, tagged: "FAIL").isEmpty, "\(output.summary)")
            #expect(output.standardOutput.contains("No problems found."), "\(output.summary)")
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func noServerFailsBothTransportsSaysNothingListensAndHowToStartIt(address: LoopbackAddress) throws {
        // A port nobody serves: taken from the same counter as the servers', then left unused.
        let port = IntegrationEnvironment.nextPort()
        let output = try Self.doctor(["--server", Self.serverText(address, port: port)])
        #expect(output.status == 1, "\(output.summary)")
        let failures = Self.lines(output, tagged: "FAIL")
        #expect(failures.count == 2, "\(output.summary)")
        #expect(failures.contains { $0.contains("UDP:") && $0.contains("nothing listens") }, "\(output.summary)")
        #expect(failures.contains { $0.contains("TCP:") && $0.contains("nothing listens") }, "\(output.summary)")
        #expect(output.standardOutput.contains("fix: start coderdns"), "\(output.summary)")
        #expect(output.standardOutput.contains("2 problems found."), "\(output.summary)")
    }

    @Test func aServerWithoutWorkspaceDataIsReportedAsSERVFAILWithTheControlPlaneAsTheThingToCheck() throws {
        try ServerProcess.withServer(snapshot: nil) { server in
            let output = try Self.doctor(["--server", Self.serverText(.ipv4, port: server.port)])
            #expect(output.status == 1, "\(output.summary)")
            #expect(Self.lines(output, tagged: "ok").contains { $0.contains("UDP:") && $0.contains("SERVFAIL") }, "\(output.summary)")
            let failures = Self.lines(output, tagged: "FAIL")
            #expect(failures.count == 1 && failures[0].contains("no workspace data"), "\(output.summary)")
            #expect(output.standardOutput.contains("control plane"), "\(output.summary)")
        }
    }

    @Test func aSuffixTheServerDoesNotServeIsReportedAsREFUSED() throws {
        try ServerProcess.withServer { server in
            let output = try Self.doctor(["--server", Self.serverText(.ipv6, port: server.port), "--suffix", "example"])
            #expect(output.status == 1, "\(output.summary)")
            #expect(output.standardOutput.contains("is.coder--connect--enabled--right--now.example"), "\(output.summary)")
            let failures = Self.lines(output, tagged: "FAIL")
            #expect(failures.count == 1 && failures[0].contains("REFUSED"), "\(output.summary)")
        }
    }

    @Test(arguments: [
        (["--server", "nonsense"], "--server"),
        (["--server", "[::1]:99999"], "99999"),
        (["--suffix", "bad..suffix"], "--suffix"),
        (["--timeout", "0"], "--timeout"),
    ])
    func aBadFlagIsOneLineOnStandardErrorAndANonZeroExit(arguments: [String], mention: String) throws {
        let output = try Self.doctor(arguments)
        #expect(output.status != 0 && output.status != 1, "\(output.summary)")
        let lines = output.standardError.split(separator: "\n")
        #expect(lines.count == 1 && lines[0].hasPrefix("coderdns: ") && lines[0].contains(mention), "\(output.summary)")
        #expect(output.standardOutput.isEmpty, "\(output.summary)")
    }
}

/// `coderdns doctor` against a server that is not coderdns: UDP only, no OPT in its replies,
/// and a sentinel address outside Coder's prefix.
@Suite("coderdns doctor against another server")
struct DoctorForeignServerTests {
    @Test func aServerWithoutEDNSAndASentinelOutsideThePrefixAndNoTCPFailsThreeChecks() throws {
        let fake = try DoctorFakeServer { query in
            var reply = Message(header: Header(id: query.header.id, flags: Header.Bit.response), questions: query.questions)
            if let question = query.questions.first {
                reply.answers = [ResourceRecord(name: question.name, type: .aaaa, ttl: 60, data: .aaaa(ipv6("2001:db8::53")))]
            }
            return reply
        }
        defer { fake.stop() }
        let output = try DoctorTests.doctor(["--server", "127.0.0.1:\(fake.port)"])
        #expect(output.status == 1, "\(output.summary)")
        #expect(DoctorTests.lines(output, tagged: "ok").contains { $0.contains("UDP:") && $0.contains("NOERROR") }, "\(output.summary)")
        let failures = DoctorTests.lines(output, tagged: "FAIL")
        #expect(failures.count == 3, "\(output.summary)")
        #expect(failures.contains { $0.contains("EDNS:") && $0.contains("no OPT record") }, "\(output.summary)")
        #expect(failures.contains { $0.contains("sentinel:") && $0.contains("2001:db8::53, outside fd60:627a:a42b::/48") }, "\(output.summary)")
        #expect(failures.contains { $0.contains("TCP:") }, "\(output.summary)")
        #expect(output.standardOutput.contains("fix: UDP works but TCP does not"), "\(output.summary)")
    }
}
