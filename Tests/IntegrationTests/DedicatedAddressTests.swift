import Foundation
import Testing

/// The server's real home, `[fd60:627a:a42b::53]:53`, inside a network namespace the test
/// creates: it binds the address before any interface has it (FREEBIND), then answers on it.
///
/// Every packet to fd60:627a:a42b::53 is sent from inside the namespace (`ip netns exec`):
/// outside it, this prefix is routed off the machine.
@Suite(
    "The dedicated address inside a network namespace",
    .enabled(
        if: IntegrationEnvironment.isRoot || IntegrationEnvironment.rootTestsRequired,
        "needs root to create a network namespace; CODERDNS_REQUIRE_ROOT_TESTS=1 makes this a failure"))
struct DedicatedAddressTests {
    /// `ip netns add` on creation; ``delete()`` (also run by deinit) removes it.
    final class NetworkNamespace {
        let name = "coderdns-it-\(getpid())-\(IntegrationEnvironment.uniqueNumber())"
        private var exists = false

        init() throws {
            try ip(["netns", "add", name], inNamespace: false)
            exists = true
        }

        deinit { delete() }

        /// `ip -n <name> arguments...` (or plain `ip arguments...`), which must succeed.
        @discardableResult
        func ip(_ arguments: [String], inNamespace: Bool = true) throws -> CommandOutput {
            let output = try CommandRunner.run(IntegrationEnvironment.ip, (inNamespace ? ["-n", name] : []) + arguments)
            guard output.status == 0 else {
                throw HarnessError("ip \(arguments.joined(separator: " ")) failed: \(output.summary)")
            }
            return output
        }

        func delete() {
            guard exists else { return }
            exists = false
            _ = try? CommandRunner.run(IntegrationEnvironment.ip, ["netns", "delete", name])
        }
    }

    @Test func theServerBindsTheDedicatedAddressBeforeItExistsAndAnswersOnItOverUDPAndTCP() throws {
        try #require(IntegrationEnvironment.isRoot, "CODERDNS_REQUIRE_ROOT_TESTS=1, but the tests do not run as root")
        let namespace = try NetworkNamespace()
        defer { namespace.delete() }
        try namespace.ip(["link", "set", "lo", "up"])

        // `ip netns exec` execs the binary: the PID is the server's own.
        let server = try ServerProcess(
            executable: IntegrationEnvironment.ip,
            arguments: [
                "netns", "exec", namespace.name, IntegrationEnvironment.binary, "serve", "--snapshot", IntegrationEnvironment.demoSnapshot,
                "--owner", "alice",
            ],
            port: 53)
        defer { server.stop() }
        try #require(
            server.waitForLogLine(where: ServerProcess.isServingLine),
            "not serving: \(server.endDescription); stderr:\n\(server.standardError)")
        let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(server.pid)/exe")
        #expect(executable.map { URL(fileURLWithPath: $0).lastPathComponent } == "coderdns", "\(executable ?? "?")")

        // Its address does not exist yet: it was bound without it.
        let before = try namespace.ip(["-6", "addr", "show", "dev", "lo"])
        #expect(!before.standardOutput.contains(Demo.serviceAddress), "\(before.standardOutput)")
        try namespace.ip(["addr", "add", "\(Demo.serviceAddress)/128", "dev", "lo", "nodad"])

        let dig = DNSLookup(tool: .dig, server: Demo.serviceAddress, port: 53, namespace: namespace.name)
        let udp = try dig(["main.myws.me.coder", "AAAA"])
        #expect(udp.status == "NOERROR", "\(udp)")
        #expect(udp.transport == "UDP", "\(udp)")
        #expect(udp.flags == ["qr", "aa"], "\(udp)")
        #expect(udp.answer.count == 1 && Expect.sameAddress(udp.answer[0].data, Demo.mywsMain), "\(udp)")

        let sentinel = try dig([Demo.sentinel, "AAAA"])
        #expect(sentinel.answer.count == 1 && Expect.sameAddress(sentinel.answer[0].data, Demo.serviceAddress), "\(sentinel)")

        let kdig = DNSLookup(tool: .kdig, server: Demo.serviceAddress, port: 53, namespace: namespace.name)
        let tcp = try kdig(["+tcp", "main.myws.alice.coder", "AAAA"])
        #expect(tcp.status == "NOERROR", "\(tcp)")
        #expect(tcp.transport == "TCP", "\(tcp)")
        #expect(tcp.answer.count == 1 && Expect.sameAddress(tcp.answer[0].data, Demo.mywsMain), "\(tcp)")

        let reverse = try kdig(["+tcp", "-x", Demo.serviceAddress])
        #expect(reverse.answer.map(\.data) == [Demo.sentinel + "."], "\(reverse)")

        #expect(server.isRunning, "\(server.endDescription); stderr:\n\(server.standardError)")
    }
}
