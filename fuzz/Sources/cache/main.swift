import ControlPlane
import FuzzDriver
import FuzzZone
import RecordStore

// The state cache loader. The first byte chooses the mode: even, the rest is a payload that
// gets a valid header (magic, version, length, CRC-32) so the fuzzer reaches the payload
// reader; odd, the rest is the whole file. Properties: no trap; the state builds a snapshot;
// saving what was loaded and loading it again gives the same state and save time when every
// loaded name fits in 255 bytes, and after one more save otherwise (bytes that are not UTF-8
// load as U+FFFD, 3 bytes each, which can take a name over 255 bytes: the save cuts it once).
let configuration = FuzzZone.configuration

func withHeader(_ payload: [UInt8]) -> [UInt8] {
    var file = Array("CDNSSTAT".utf8)
    func append<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.bigEndian) { file.append(contentsOf: $0) }
    }
    append(StateCache.version)
    append(UInt64(payload.count))
    append(CRC32.checksum(payload))
    return file + payload
}

runFuzzer { data in
    guard let mode = data.first else { return }
    let rest = Array(data[1...])
    let file = mode & 1 == 0 ? withHeader(rest) : rest
    guard let (state, savedAt) = try? StateCache.decode(file, path: "fuzz", configuration: configuration) else { return }
    let asWritten =
        !state.workspaces.values.contains { $0.name.utf8.count > 255 } && !state.agents.values.contains { $0.name.utf8.count > 255 }
    var (expected, savedExpected) = (state, savedAt)
    if !asWritten {
        guard let once = try? StateCache.decode(StateCache.encode(state, savedAt: savedAt), path: "fuzz", configuration: configuration) else {
            fuzzCheck(false, "a state's own cache file does not load")
            return
        }
        (expected, savedExpected) = once
    }
    let encoded = StateCache.encode(expected, savedAt: savedExpected)
    do {
        let (again, savedAgain) = try StateCache.decode(encoded, path: "fuzz", configuration: configuration)
        let state = expected, savedAt = savedExpected
        fuzzCheck(again == state && savedAgain == savedAt, "decode(encode(state)) differs: \(state) at \(savedAt) became \(again) at \(savedAgain)")
    } catch {
        fuzzCheck(false, "a state's own cache file does not load: \(error)")
    }
    _ = ZoneSnapshot(state: state, configuration: configuration, serial: 1).hostNames()
}
