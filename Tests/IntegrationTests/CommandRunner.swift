import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What a finished command printed and how it ended.
struct CommandOutput: Sendable {
    let status: Int32
    let standardOutput: String
    let standardError: String

    var summary: String { "exit status \(status)\nstdout:\n\(standardOutput)\nstderr:\n\(standardError)" }
}

enum CommandRunner {
    /// Runs `executable` to completion. Output goes to files (no pipe can fill up and stall
    /// the child); a command still running after `timeout` seconds is killed by its PID.
    static func run(_ executable: String, _ arguments: [String], timeout: Double = 20) throws -> CommandOutput {
        let directory = try IntegrationEnvironment.makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let outputPath = directory.appendingPathComponent("stdout").path
        let errorPath = directory.appendingPathComponent("stderr").path
        let child = try ChildProcess(executable: executable, arguments: arguments, standardOutput: outputPath, standardError: errorPath)
        guard let ending = child.waitForExit(timeout: timeout) else {
            child.send(signal: SIGKILL)
            child.stop()
            throw HarnessError("\(executable) \(arguments.joined(separator: " ")) ran longer than \(timeout) s and was killed")
        }
        let status: Int32
        switch ending {
        case .exited(let code): status = code
        case .signaled(let signal): status = 128 + signal
        }
        return CommandOutput(
            status: status,
            standardOutput: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
            standardError: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
    }
}
