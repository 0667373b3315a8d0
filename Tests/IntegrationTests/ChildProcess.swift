import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A child process started with posix_spawn and reaped with waitpid, by its PID only.
///
/// Not Foundation's `Process`: that one spawns with the calling thread's signal mask, and the
/// test runner's threads block SIGTERM and SIGHUP, which a child would inherit. Here the
/// child starts the way a shell or systemd starts it: an empty signal mask (unless the test
/// asks for blocked signals) and default dispositions.
final class ChildProcess {
    enum Ending: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)

        var description: String {
            switch self {
            case .exited(let status): "exited with status \(status)"
            case .signaled(let signal): "killed by signal \(signal)"
            }
        }
    }

    let pid: pid_t
    private var ending: Ending?
    private let standardErrorPath: String?

    /// Starts `executable` with `arguments`; stdin is /dev/null, stdout and stderr go to the
    /// given files (created or truncated) or /dev/null. `environment` adds to (or replaces
    /// variables of) this process's environment.
    init(
        executable: String, arguments: [String], standardOutput: String? = nil, standardError: String? = nil,
        blockedSignals: [Int32] = [], environment: [String: String] = [:]
    ) throws {
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw HarnessError("\(executable) is not an executable file")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, standardOutput ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, standardError ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // Nothing else: tests run in parallel, and a descriptor of another test's (a control-
        // plane connection it is about to drop) would otherwise stay open in this child.
        guard let closeFrom = Self.closeFrom, closeFrom(&actions, 3) == 0 else {
            throw HarnessError("posix_spawn_file_actions_addclosefrom_np (glibc 2.34) is missing")
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in blockedSignals { sigaddset(&mask, signal) }
        posix_spawnattr_setsigmask(&attributes, &mask)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGPIPE, SIGUSR1, SIGUSR2, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var variables = ProcessInfo.processInfo.environment
        variables.merge(environment) { $1 }
        let envp: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in envp { free(pointer) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard result == 0 else { throw SocketError("posix_spawn \(executable)", errno: result) }
        self.pid = pid
        self.standardErrorPath = standardError
    }

    deinit { stop() }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np`: Swift's Glibc module leaves it out
    /// (it is a GNU extension).
    private typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let closeFrom: CloseFrom? = {
        // RTLD_DEFAULT is the null handle on glibc.
        guard let symbol = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
        return unsafeBitCast(symbol, to: CloseFrom.self)
    }()

    /// How it ended, if it has.
    var endingIfEnded: Ending? {
        reap(blocking: false)
        return ending
    }

    var isRunning: Bool { endingIfEnded == nil }

    /// Sends `signal` to the child if it has not been reaped (so the PID is still ours).
    func send(signal: Int32) {
        guard isRunning else { return }
        kill(pid, signal)
    }

    /// Polls until the child ends; nil if it still runs after `timeout` seconds.
    func waitForExit(timeout: Double) -> Ending? {
        let deadline = monotonicSeconds() + timeout
        while true {
            if let ending = endingIfEnded { return ending }
            if monotonicSeconds() > deadline { return nil }
            usleep(5_000)
        }
    }

    /// SIGTERM, up to 3 seconds to exit, then SIGKILL and reap. Safe to call more than once.
    func stop() {
        guard isRunning else { return }
        kill(pid, SIGTERM)
        if waitForExit(timeout: 3) != nil { return }
        kill(pid, SIGKILL)
        reap(blocking: true)
    }

    private func reap(blocking: Bool) {
        guard ending == nil else { return }
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, blocking ? 0 : WNOHANG)
            if result == pid {
                // WIFEXITED: the low 7 bits are zero; WEXITSTATUS: the next 8.
                ending = status & 0x7F == 0 ? .exited((status >> 8) & 0xFF) : .signaled(status & 0x7F)
                recordSanitizerReports()
                return
            }
            if result < 0 && errno == EINTR { continue }
            if result < 0 {
                // ECHILD: not ours to wait for any more; never signal this PID again.
                ending = .exited(-1)
            }
            return
        }
    }

    /// What starts a sanitizer's report (`==PID==ERROR: AddressSanitizer: ...`,
    /// `WARNING: ThreadSanitizer: data race ...`, `==PID==ERROR: LeakSanitizer: ...`).
    static let sanitizerMarkers = ["ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "WARNING: ThreadSanitizer"]

    /// Under `scripts/sanitize` the binaries a test starts are instrumented too, and their
    /// reports would otherwise pass unseen: ThreadSanitizer keeps the process running after a
    /// report, most tests stop the server with SIGTERM without asking how it exited, and a
    /// test that expects a failing exit status cannot tell the sanitizer's apart. So once a
    /// child has ended, a report in its standard error is an issue of the running test.
    private func recordSanitizerReports() {
        guard let path = standardErrorPath, let text = try? String(contentsOfFile: path, encoding: .utf8),
            let marker = Self.sanitizerMarkers.first(where: { text.contains($0) })
        else { return }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let start = lines.firstIndex { $0.contains(marker) } ?? 0
        let report = lines[start...].prefix(60).joined(separator: "\n")
        Issue.record("process \(pid) (\(ending?.description ?? "")) reported \(marker):\n\(report)")
    }
}
