/// The findings of `coderdns doctor`, printed as they are made: one line each, a `fix:` line
/// under every problem that has a remedy.
struct DoctorReport {
    private(set) var problems = 0

    mutating func ok(_ text: String) { emit("ok  ", text, fix: nil) }

    mutating func info(_ text: String) { emit("info", text, fix: nil) }

    /// Worth fixing, but names resolve: not counted as a problem.
    mutating func warning(_ text: String, fix: String?) { emit("warn", text, fix: fix) }

    /// Something that stops `.coder` names from resolving: exit status 1.
    mutating func problem(_ text: String, fix: String?) {
        problems += 1
        emit("FAIL", text, fix: fix)
    }

    private func emit(_ tag: String, _ text: String, fix: String?) {
        print("\(tag)  \(text)")
        if let fix { print("      fix: \(fix)") }
    }
}
