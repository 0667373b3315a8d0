import ControlPlane
import FuzzDriver
import FuzzZone
import RecordStore

// The control plane's update message: decode (protobuf), then apply to an empty state (the
// first message of a session) and to a small state (a diff), then build a snapshot of each.
// Properties: no trap; a decoded message re-encodes to bytes that decode to the same message;
// a state's own snapshot message, applied to an empty state, gives that state back.
let configuration = FuzzZone.configuration
let small = FuzzZone.state

runFuzzer { data in
    guard let update = try? WorkspaceUpdate.decode(Array(data)) else { return }
    let encoded = update.serializedBytes()
    do {
        let decoded = try WorkspaceUpdate.decode(encoded)
        fuzzCheck(decoded == update, "decode(encode(u)) != u")
    } catch {
        fuzzCheck(false, "an update's own encoding does not decode: \(error)")
    }
    for base in [WorkspaceState(), small] {
        let (state, _) = base.applying(update)
        _ = ZoneSnapshot(state: state, configuration: configuration, serial: 1).hostNames()
        let (rebuilt, _) = WorkspaceState().applying(WorkspaceUpdate(snapshotOf: state))
        fuzzCheck(rebuilt == state, "a state's snapshot message does not rebuild it")
    }
}
