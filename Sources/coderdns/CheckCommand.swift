import ArgumentParser
import Glibc
import Observability
import RecordStore

/// `coderdns check FILE`: reads a state file exactly as `serve --snapshot` would and prints
/// the names it would serve, without starting a server.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a workspace state file and print the names it would serve."
    )

    @Argument(help: ArgumentHelp("The state file (see docs/snapshot-format.md).", valueName: "file"))
    var file: String

    @Option(help: ArgumentHelp("The <owner> in <agent>.<workspace>.<owner>.<suffix>. Default: the login user.", valueName: "name"))
    var owner: String?

    @Option(help: ArgumentHelp("The DNS suffix (the forward zone).", valueName: "suffix"))
    var suffix: String = "coder"

    @Flag(help: "Print only the summary line, not every name.")
    var quiet = false

    func run() throws {
        let configuration: ZoneConfiguration
        do {
            configuration = try ZoneConfiguration(suffix: suffix, owner: try owner ?? ServeCommand.loginUser())
        } catch let exit as ExitCode {
            throw exit
        } catch {
            throw ServeCommand.fail("\(error)", status: 64)
        }
        let loaded: (snapshot: ZoneSnapshot, workspaces: Int, agents: Int, skipped: [SkippedAgent])
        do {
            loaded = try StateFile.loadSnapshot(path: file, configuration: configuration, serial: 1)
        } catch {
            // The same one line `serve` prints, and the same status.
            throw ServeCommand.fail("\(error)", status: 2)
        }
        var output = ""
        if !quiet {
            for host in loaded.snapshot.hostNames() {
                output += "\(host.name)\tAAAA\t\(host.addresses.map(IPv6Text.format).joined(separator: " "))\n"
            }
        }
        for agent in loaded.skipped {
            output += "not served: \(agent.location): \(agent.reason)\n"
        }
        output +=
            "\(file): \(loaded.workspaces) workspaces, \(loaded.agents) agents, \(loaded.snapshot.nameCount) names served, \(loaded.skipped.count) agents not served\n"
        var bytes = Array(output.utf8)
        _ = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
    }
}
