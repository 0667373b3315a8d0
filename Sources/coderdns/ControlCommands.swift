import ArgumentParser
import Glibc
import Observability

/// What `status`, `names` and `reload` share: the socket, and how an answer becomes output
/// and an exit status (0 healthy or done, 1 degraded or refused, 2 not running).
struct ControlSocketOption: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "The running server's control socket. Default: /run/coderdns/control for root, else $XDG_RUNTIME_DIR/coderdns/control.",
            valueName: "path"))
    var controlSocket: String?

    /// Asks the server and ends the process with its answer.
    func ask(_ request: String) throws -> Never {
        let path = controlSocket ?? ControlClient.defaultPath()
        do {
            let (status, text) = try ControlClient.ask(request, path: path)
            var bytes = Array(text.utf8)
            _ = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress, $0.count) }
            Glibc.exit(status)
        } catch .notRunning(let path) {
            FileHandleOutput.standardError("coderdns is not running (nothing answers on \(path))\n")
            Glibc.exit(2)
        } catch .failed(let reason) {
            FileHandleOutput.standardError("coderdns: \(reason)\n")
            Glibc.exit(2)
        }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Ask the running server how it is: its data source, how old its data is, what it answers.",
        discussion: "Exit status: 0 healthy, 1 degraded (no data, stale, or disconnected from the data source), 2 not running."
    )

    @OptionGroup var socket: ControlSocketOption

    @Flag(help: "One JSON object, for scripts.")
    var json = false

    func run() throws { try socket.ask(json ? "status-json" : "status") }
}

struct NamesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "names", abstract: "List the names the running server answers, with their addresses.")

    @OptionGroup var socket: ControlSocketOption

    @Argument(help: ArgumentHelp("Only names that contain this text.", valueName: "filter"))
    var filter: String?

    func run() throws { try socket.ask(filter.map { "names \($0)" } ?? "names") }
}

struct ReloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload", abstract: "Re-read the running server's --snapshot file (what SIGHUP does) and say how it went.")

    @OptionGroup var socket: ControlSocketOption

    func run() throws { try socket.ask("reload") }
}
