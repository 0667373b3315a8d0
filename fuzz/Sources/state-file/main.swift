import FuzzDriver
import FuzzZone
import Glibc
import RecordStore

// The state file (`--state-file` JSON) both ways it is read: parsed into a WorkspaceState and
// built into a snapshot, and read straight into a snapshot from a file (the server's path
// without a control plane, a second reader). Properties: no trap; both readers accept and
// refuse the same documents, skip the same agents, and serve the same names.
let configuration = FuzzZone.configuration
let path = "/dev/shm/coderdns-fuzz-state-\(getpid()).json"

func names(_ snapshot: ZoneSnapshot) -> [String] {
    snapshot.hostNames().map { "\($0.name) \($0.addresses)" }.sorted()
}

runFuzzer { data in
    let bytes = Array(data)
    let parsed = try? StateFile.parse(bytes: bytes, source: "fuzz", configuration: configuration)
    var fromState: ZoneSnapshot?
    if let parsed {
        fromState = ZoneSnapshot(state: parsed.state, configuration: configuration, serial: 1)
    }
    let file = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    precondition(file >= 0, "cannot write \(path)")
    _ = bytes.withUnsafeBytes { write(file, $0.baseAddress, $0.count) }
    close(file)
    let loaded = try? StateFile.loadSnapshot(path: path, configuration: configuration, serial: 1)
    fuzzCheck((parsed == nil) == (loaded == nil), "one reader accepts what the other refuses: parse \(parsed != nil), load \(loaded != nil)")
    guard let parsed, let loaded, let fromState else { return }
    fuzzCheck(parsed.state.workspaces.count == loaded.workspaces, "workspace counts differ")
    fuzzCheck(parsed.state.agents.count == loaded.agents, "agent counts differ")
    fuzzCheck(parsed.skipped == loaded.skipped, "skipped agents differ")
    fuzzCheck(names(fromState) == names(loaded.snapshot), "the two snapshots serve different names")
}
