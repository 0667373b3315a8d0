import DNSWire
import Foundation
import Testing

@Suite("coderdns check, on the real binary", .serialized)
struct CheckCommandTests {
    static func check(_ arguments: [String]) throws -> CommandOutput {
        try CommandRunner.run(IntegrationEnvironment.binary, ["check"] + arguments)
    }

    /// Every name `check` lists is answered by `serve` with the same file, with exactly the
    /// listed addresses; and the count matches.
    @Test(arguments: ["demo-snapshot.json", "state-unservable-names.json", "reload-snapshot.json"])
    func theNamesListedAreTheNamesServed(fixture: String) throws {
        let path = IntegrationEnvironment.fixture(fixture)
        let output = try Self.check([path, "--owner", "alice"])
        #expect(output.status == 0, "\(output.summary)")
        let rows = output.standardOutput.split(separator: "\n").filter { $0.contains("\tAAAA\t") }
        #expect(rows.count > 1)
        let summary = output.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
        #expect(summary.contains("\(rows.count) names served"), "\(summary)")
        try ServerProcess.withServer(snapshot: path) { server in
            for row in rows {
                let fields = row.split(separator: "\t")
                let name = String(fields[0])
                let listed = fields[2].split(separator: " ").map(String.init).sorted()
                let served = CoderIntegrationTests.addresses(server.port, name).sorted()
                #expect(served == listed, "\(name)")
            }
        }
    }

    @Test func unservedAgentsAreListedWithTheirPlaceAndReason() throws {
        let output = try Self.check([IntegrationEnvironment.fixture("state-unservable-names.json"), "--owner", "alice", "--quiet"])
        #expect(output.status == 0)
        #expect(output.standardOutput.contains("not served: workspaces[0].agents[2]: the agent name \"dev.box\" has a '.' in it"))
        #expect(output.standardOutput.contains("\tAAAA\t") == false, "--quiet prints no names")
    }

    @Test func aBadFileIsTheOneLineServeWouldPrintAndStatus2() throws {
        let path = IntegrationEnvironment.fixture("bad-state-not-json.json")
        let output = try Self.check([path, "--owner", "alice"])
        #expect(output.status == 2)
        let lines = output.standardError.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix("coderdns: \(path): not valid JSON") == true, "\(lines)")
    }
}
