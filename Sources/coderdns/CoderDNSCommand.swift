import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

@main
struct CoderDNSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coderdns",
        abstract: "An authoritative DNS server for Coder Connect's .coder names.",
        subcommands: [ServeCommand.self, StatusCommand.self, NamesCommand.self, ReloadCommand.self, CheckCommand.self, DoctorCommand.self],
        defaultSubcommand: nil
    )

    /// Argument errors are one line on standard error and a non-zero exit; help is printed whole.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let exit as ExitCode {
            Glibc.exit(exit.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let message = self.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            FileHandleOutput.standardError("coderdns: \(message)\n")
            Glibc.exit(code.rawValue)
        }
    }
}

enum FileHandleOutput {
    static func standardError(_ text: String) {
        // write(2) on fd 2: the C `stderr` global is not concurrency-safe to touch from Swift 6.
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
