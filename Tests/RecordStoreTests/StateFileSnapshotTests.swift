import Foundation
import RecordStore
import Testing

/// `StateFile.loadSnapshot`: the file read straight into a snapshot, without the state.
@Suite("State files read straight into a snapshot")
struct StateFileSnapshotTests {
    static let configuration = StateFileTests.configuration

    static func write(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "coderdns-state-\(UUID().uuidString).json"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// A file with every shape: one agent, several agents, two workspaces of one name, two
    /// agents of one name, letter case, a shared address; `count` workspaces in all, and
    /// enough bytes (padding in an unknown key) that its pages are released while it is read.
    static func richFile(count: Int) -> String {
        var workspaces: [String] = []
        for index in 0..<count {
            let ws = String(format: "%08x-0000-4000-8000-%012x", index, index)
            var agents = [#"{"id":"\#(String(format: "%08x-1111-4000-8000-%012x", index, index))","name":"Main"}"#]
            if index % 10 == 0 { agents.append(#"{"id":"\#(String(format: "%08x-2222-4000-8000-%012x", index, index))","name":"gpu"}"#) }
            if index % 17 == 0 { agents.append(#"{"id":"\#(String(format: "%08x-3333-4000-8000-%012x", index, index))","name":"MAIN"}"#) }
            // Workspaces 5 and 6 share a name; so do every 100th and the next.
            let name =
                switch index {
                case 5: "dup5"
                case 6: "Dup5"
                case _ where index % 100 == 0: "Shared\(index)"
                case _ where index % 100 == 1: "shared\(index - 1)"
                default: "Ws-\(index)"
                }
            let padding = String(repeating: "x", count: 300)
            workspaces.append(
                #"{"id":"\#(ws)","name":"\#(name)","status":"RUNNING","note":"\#(padding)","agents":[\#(agents.joined(separator: ","))]}"#)
        }
        return #"{"workspaces":[\#(workspaces.joined(separator: ",\n"))]}"#
    }

    /// Every forward name of `state` and every reverse name of its agents, looked up in both.
    static func expectSameAnswers(_ a: ZoneSnapshot, _ b: ZoneSnapshot, state: WorkspaceState) {
        #expect(a.nameCount == b.nameCount)
        #expect(a.addressCount == b.addressCount)
        #expect(a.answerRecords == b.answerRecords)
        func key(_ labels: [String]) -> [UInt8] { labels.flatMap { [UInt8($0.utf8.count)] + Array($0.lowercased().utf8) } }
        func forward(_ s: ZoneSnapshot, _ labels: [String]) -> ZoneSnapshot.ForwardResult {
            key(labels).withUnsafeBytes { s.lookupForward(relativeName: $0) }
        }
        for agent in state.agents.values {
            let workspace = state.workspaces[agent.workspaceID]!.name
            for labels in [
                [agent.name, workspace, "me"], [agent.name, workspace, "alice"], [workspace], [workspace, "me"], ["nope", workspace, "me"],
            ] {
                #expect(forward(a, labels) == forward(b, labels), "\(labels)")
            }
            let nibbles = ServiceAddress.agent(agent.id).nibbles[12...].reversed().map { String($0, radix: 16) }
            let ra = key(nibbles).withUnsafeBytes { a.lookupReverse(relativeName: $0) }
            let rb = key(nibbles).withUnsafeBytes { b.lookupReverse(relativeName: $0) }
            switch (ra, rb) {
            case (.pointer(let ta), .pointer(let tb)): #expect(a.name(of: ta) == b.name(of: tb))
            default: Issue.record("no PTR for \(agent.id): \(ra), \(rb)")
            }
        }
    }

    @Test func theSnapshotEqualsTheOneBuiltFromTheState() throws {
        let path = try Self.write(Self.richFile(count: 12_000))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (state, skipped) = try StateFile.load(path: path, configuration: Self.configuration)
        let loaded = try StateFile.loadSnapshot(path: path, configuration: Self.configuration, serial: 7)
        #expect(loaded.skipped == skipped)
        #expect(loaded.snapshot.skippedAgents == skipped.count)
        #expect(loaded.workspaces == state.workspaces.count)
        #expect(loaded.agents == state.agents.count)
        #expect(loaded.snapshot.serial == 7)
        #expect(loaded.snapshot.hasData)
        let fromState = ZoneSnapshot(state: state, configuration: Self.configuration, serial: 7)
        Self.expectSameAnswers(loaded.snapshot, fromState, state: state)
    }

    @Test("a bad file gets the same one-line error either way", arguments: StateFileTests.bad)
    func badFilesGiveTheSameError(text: String, expected: String) throws {
        let path = try Self.write(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: StateFileError.self) { try StateFile.loadSnapshot(path: path, configuration: Self.configuration, serial: 1) }
        do {
            _ = try StateFile.loadSnapshot(path: path, configuration: Self.configuration, serial: 1)
        } catch {
            let viaState = #expect(throws: StateFileError.self) { try StateFile.load(path: path, configuration: Self.configuration) }
            #expect(error == viaState)
            #expect(error.description.hasPrefix(expected.replacingOccurrences(of: "state.json", with: path)), "\(error)")
        }
    }

    @Test func aSyntaxErrorPastReleasedPagesNamesTheRightLineAndColumn() throws {
        // Megabytes of good workspaces (released while reading), then a bad one on its own line.
        let good = Self.richFile(count: 9_000)
        let text = String(good.dropLast(2)) + ",\n  {\"id\": \"x\",,}]}"
        let inMemory = #expect(throws: StateFileError.self) {
            try StateFile.parse(bytes: Array(text.utf8), source: "state.json", configuration: Self.configuration)
        }
        let path = try Self.write(text)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fromFile = #expect(throws: StateFileError.self) { try StateFile.loadSnapshot(path: path, configuration: Self.configuration, serial: 1) }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect(inMemory?.problem == "not valid JSON: unexpected character ',' at line \(lines), column 14")
        #expect(fromFile?.problem == inMemory?.problem)
        #expect(text.utf8.count > 3 << 20)
    }

    @Test func aMissingFileIsOneLine() {
        let error = #expect(throws: StateFileError.self) {
            try StateFile.loadSnapshot(path: "/nonexistent/state.json", configuration: Self.configuration, serial: 1)
        }
        #expect(error?.description.hasPrefix("/nonexistent/state.json: cannot read the file") == true)
    }
}
