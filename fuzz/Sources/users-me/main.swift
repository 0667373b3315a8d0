import FuzzDriver
import RecordStore

// The readers of coderd's JSON answers (CoderClient's CoderJSON, compiled into this target
// from its source file through a symbolic link, so the fuzz build needs no SwiftNIO):
// `/api/v2/users/me`, `/api/v2/workspaceagents/connection` and coderd's error body, over
// RecordStore's JSONCursor. Property: no trap (a bad document throws).
runFuzzer { data in
    let body = Array(data)
    _ = try? CoderJSON.user(body)
    _ = try? CoderJSON.hostnameSuffix(body)
    _ = try? CoderJSON.response(body)
}
