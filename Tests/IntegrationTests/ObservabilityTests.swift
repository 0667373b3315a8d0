import DNSWire
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Metrics, `coderdns status`, `names` and `reload` against the running binary.
@Suite("Operating the server: metrics and status, on the real binary", .serialized)
struct ObservabilityTests {
    static func socketPath() throws -> String {
        try IntegrationEnvironment.makeTemporaryDirectory().appendingPathComponent("control").path
    }

    static func coderdns(_ arguments: [String]) throws -> CommandOutput {
        try CommandRunner.run(IntegrationEnvironment.binary, arguments, timeout: 40)
    }

    /// The metrics text, parsed: `name{labels}` → value.
    static func scrape(_ port: UInt16) throws -> (text: String, samples: [String: Double]) {
        let output = try CommandRunner.run("/usr/bin/curl", ["-s", "-S", "--fail", "http://127.0.0.1:\(port)/metrics"])
        #expect(output.status == 0, "\(output.summary)")
        var samples: [String: Double] = [:]
        for line in output.standardOutput.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " ") else { continue }
            samples[String(line[..<space])] = Double(line[line.index(after: space)...])
        }
        return (output.standardOutput, samples)
    }

    @Test func aScrapeAfterKnownQueriesGivesExactlyThoseCountsAndPromtoolAcceptsIt() throws {
        let metricsPort = IntegrationEnvironment.nextPort()
        let socket = try Self.socketPath()
        try ServerProcess.withServer(arguments: ["--metrics-listen", "127.0.0.1:\(metricsPort)", "--control-socket", socket]) { server in
            // Counts before (the harness's readiness probe was answered), then the known queries.
            let before = try Self.scrape(metricsPort).samples
            // Three NOERROR AAAA, two NXDOMAIN, one NODATA A, one REFUSED, one over TCP.
            for _ in 0..<3 { #expect(try server.dig("myws.coder", "AAAA").status == "NOERROR") }
            for _ in 0..<2 { #expect(try server.dig("nope.coder", "AAAA").status == "NXDOMAIN") }
            #expect(try server.dig("myws.coder", "A").status == "NOERROR")
            #expect(try server.dig("example.com", "AAAA").status == "REFUSED")
            #expect(try server.dig("+tcp", "main.dev.me.coder", "AAAA").status == "NOERROR")
            // A request that is itself a response: dropped.
            let raw = try RawSocket(.udp, to: .ipv4, port: server.port)
            var response = try DNSQuery.bytes(id: 9, name: "myws.coder", type: .aaaa)
            response[2] |= 0x80
            try raw.send(response)

            let (text, after) = try Self.scrape(metricsPort)
            func delta(_ key: String) -> Double { (after[key] ?? -1) - (before[key] ?? 0) }
            #expect(delta(#"coderdns_queries_total{transport="udp",rcode="NOERROR"}"#) == 4)
            #expect(delta(#"coderdns_queries_total{transport="udp",rcode="NXDOMAIN"}"#) == 2)
            #expect(delta(#"coderdns_queries_total{transport="udp",rcode="REFUSED"}"#) == 1)
            #expect(delta(#"coderdns_queries_total{transport="udp",rcode="SERVFAIL"}"#) == 0)
            #expect(delta(#"coderdns_queries_total{transport="tcp",rcode="NOERROR"}"#) == 1)
            #expect(delta(#"coderdns_queries_by_type_total{transport="udp",type="AAAA"}"#) == 6)
            #expect(delta(#"coderdns_queries_by_type_total{transport="udp",type="A"}"#) == 1)
            #expect(delta(#"coderdns_queries_by_type_total{transport="tcp",type="AAAA"}"#) == 1)
            #expect(delta(#"coderdns_dropped_requests_total{transport="udp"}"#) == 1)
            #expect(delta("coderdns_tcp_connections_accepted_total") == 1)
            // Every answered query is in the latency histogram once (the dropped one is not).
            #expect(delta("coderdns_answer_duration_seconds_count") == 8)
            #expect(delta(#"coderdns_answer_duration_seconds_bucket{le="+Inf"}"#) == 8)
            #expect(delta("coderdns_answer_duration_seconds_sum") > 0)
            #expect(after["coderdns_tcp_connections_evicted_total"] == 0)
            let samples = after
            #expect(samples["coderdns_snapshot_names"] == 8)
            #expect(samples["coderdns_snapshot_agents"] == 3)
            #expect(samples["coderdns_snapshot_has_data"] == 1)

            let directory = try IntegrationEnvironment.makeTemporaryDirectory()
            let file = directory.appendingPathComponent("metrics.txt")
            try text.write(to: file, atomically: true, encoding: .utf8)
            let promtool = try CommandRunner.run("/bin/sh", ["-c", "promtool check metrics < \(file.path)"])
            #expect(promtool.status == 0, "\(promtool.summary)")
        }
    }

    @Test func statusFromAFileIsHealthyNamesListAndReloadSaysHowItWent() throws {
        let socket = try Self.socketPath()
        try ServerProcess.withServer(arguments: ["--control-socket", socket]) { server in
            var attributes = stat()
            #expect(stat(socket, &attributes) == 0)
            #expect(attributes.st_mode & 0o777 == 0o600, "the control socket is 0600")

            let status = try Self.coderdns(["status", "--control-socket", socket])
            #expect(status.status == 0, "\(status.summary)")
            #expect(status.standardOutput.contains("serving 8 names from \(IntegrationEnvironment.demoSnapshot)"))
            #expect(status.standardOutput.contains("health        healthy"))
            let json = try Self.coderdns(["status", "--json", "--control-socket", socket])
            let object = try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
            #expect(object?["health"] as? String == "healthy")
            #expect(object?["names"] as? Int == 8)
            #expect(object?["source_kind"] as? String == "file")

            let names = try Self.coderdns(["names", "dev", "--control-socket", socket])
            #expect(names.status == 0)
            #expect(
                names.standardOutput.split(separator: "\n").sorted() == [
                    "gpu.dev.alice.coder.\tfd60:627a:a42b:4abc:9def:11:2233:aabb", "gpu.dev.me.coder.\tfd60:627a:a42b:4abc:9def:11:2233:aabb",
                    "main.dev.alice.coder.\tfd60:627a:a42b:708:90a:b0c:d0e:f10", "main.dev.me.coder.\tfd60:627a:a42b:708:90a:b0c:d0e:f10",
                ])
            let reload = try Self.coderdns(["reload", "--control-socket", socket])
            #expect(reload.status == 0)
            #expect(reload.standardOutput.hasPrefix("reloaded \(IntegrationEnvironment.demoSnapshot): 3 workspaces, 3 agents"))
            #expect(server.waitForLogLine { $0.contains("reloaded workspace state") })
        }
        let gone = try Self.coderdns(["status", "--control-socket", socket])
        #expect(gone.status == 2)
        #expect(gone.standardError == "coderdns is not running (nothing answers on \(socket))\n")
    }

    @Test func statusFollowsTheDeploymentThroughConnectedDisconnectedAndStale() throws {
        let peer = try CoderPeer()
        try peer.setState([("dev", ["main"])])
        let socket = try Self.socketPath()
        let arguments = peer.coderArguments + ["--control-socket", socket, "--max-stale", "3s"]
        try ServerProcess.withServer(snapshot: nil, arguments: arguments, owner: nil) { server in
            #expect(CoderIntegrationTests.waitForAddresses(server.port, "dev.coder", [CoderPeer.address("dev", "main")]))
            let connected = try Self.coderdns(["status", "--control-socket", socket])
            #expect(connected.status == 0, "\(connected.summary)")
            #expect(connected.standardOutput.contains("coderd \(peer.url): connected since"))
            #expect(connected.standardOutput.contains("confirmed now (connected)"))

            peer.stop()
            #expect(server.waitForLogLine { $0.contains("names keep serving, redialing") })
            let disconnected = try Self.coderdns(["status", "--control-socket", socket])
            #expect(disconnected.status == 1, "\(disconnected.summary)")
            #expect(disconnected.standardOutput.contains("(disconnected)"))
            #expect(disconnected.standardOutput.contains("last error"))
            #expect(disconnected.standardOutput.contains("health        degraded"))
            #expect(CoderIntegrationTests.addresses(server.port, "dev.coder") == [CoderPeer.address("dev", "main")], "the inherited state serves")

            #expect(server.waitForLogLine(timeout: 10) { $0.contains("no longer serving the last known state") })
            let stale = try Self.coderdns(["status", "--json", "--control-socket", socket])
            #expect(stale.status == 1)
            let object = try JSONSerialization.jsonObject(with: Data(stale.standardOutput.utf8)) as? [String: Any]
            #expect(object?["stale"] as? Bool == true)
            #expect(object?["has_data"] as? Bool == false)

            let reload = try Self.coderdns(["reload", "--control-socket", socket])
            #expect(reload.status == 1)
            #expect(reload.standardOutput.contains("nothing to reload"))
        }
    }

    @Test func statusBeforeAnyDataSaysSoAndIsDegraded() throws {
        let peer = try CoderPeer()
        try peer.control("/fail?path=tailnet&status=500")
        let socket = try Self.socketPath()
        try ServerProcess.withServer(snapshot: nil, arguments: peer.coderArguments + ["--control-socket", socket], owner: nil) { server in
            #expect(server.waitForLogLine { $0.contains("HTTP 500") })
            let status = try Self.coderdns(["status", "--control-socket", socket])
            #expect(status.status == 1, "\(status.summary)")
            #expect(status.standardOutput.contains("none yet: in-zone queries get SERVFAIL"))
            #expect(status.standardOutput.contains("HTTP 500 from \(peer.url)/api/v2/tailnet"))
        }
    }
}
