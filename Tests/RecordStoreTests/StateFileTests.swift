import Foundation
import RecordStore
import Testing

@Suite("Workspace state files")
struct StateFileTests {
    static let configuration = try! ZoneConfiguration(suffix: "coder", owner: "alice")

    static func parse(_ text: String) throws(StateFileError) -> WorkspaceState {
        try StateFile.parse(bytes: Array(text.utf8), source: "state.json", configuration: configuration).state
    }

    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
    }

    @Test func theDemoFixtureLoads() throws {
        let state = try StateFile.load(path: Self.fixtures.appendingPathComponent("demo-snapshot.json").path, configuration: Self.configuration).state
        #expect(state.workspaces.count == 3)
        #expect(state.agents.count == 3)
        #expect(state.workspaces.values.contains { $0.name == "myws" && $0.status == .running })
    }

    @Test func namesAreLowerCasedAndStatusIsOptional() throws {
        let state = try Self.parse(
            #"{"workspaces":[{"id":"3f1d9a2e-7b4c-4e8a-9f10-112233445566","name":"MyWS","agents":[{"id":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","name":"Main"}]}]}"#
        )
        #expect(state.workspaces.values.first?.name == "myws")
        #expect(state.workspaces.values.first?.status == .unknown)
        #expect(state.agents.values.first?.name == "main")
    }

    /// Each bad file and the exact one-line error it must give.
    static let bad: [(String, String)] = [
        ("{", "state.json: not valid JSON"),
        ("[]", "state.json: the top level is not a JSON object"),
        ("{}", "state.json: no \"workspaces\" key"),
        (#"{"workspaces":{}}"#, "state.json: workspaces: not an array"),
        (#"{"workspaces":[{"id":"nope","name":"a"}]}"#, "state.json: workspaces[0].id: \"nope\" is not a UUID"),
        (#"{"workspaces":[{"name":"a"}]}"#, "state.json: workspaces[0].id: missing"),
        (
            #"{"workspaces":[{"id":"3f1d9a2e-7b4c-4e8a-9f10-112233445566","name":7}]}"#,
            "state.json: workspaces[0].name: 7 is not a string"
        ),
        (
            #"{"workspaces":[{"id":"3f1d9a2e-7b4c-4e8a-9f10-112233445566","name":"ok","status":"NAPPING"}]}"#,
            "state.json: workspaces[0].status: \"NAPPING\" is not a workspace status (RUNNING, STOPPED, ...)"
        ),
        (
            #"{"workspaces":[{"id":"3f1d9a2e-7b4c-4e8a-9f10-112233445566","name":"a"},{"id":"3F1D9A2E-7B4C-4E8A-9F10-112233445566","name":"b"}]}"#,
            "state.json: workspaces[1].id: duplicate workspace id 3f1d9a2e-7b4c-4e8a-9f10-112233445566 (also at workspaces[0].id)"
        ),
        (
            #"{"workspaces":[{"id":"3f1d9a2e-7b4c-4e8a-9f10-112233445566","name":"a","agents":[{"id":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","name":"x"},{"id":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","name":"y"}]}]}"#,
            "state.json: workspaces[0].agents[1].id: duplicate agent id a1b2c3d4-e5f6-4711-8899-aabbccddeeff (also at workspaces[0].agents[0].id)"
        ),
        (
            // The first sighting is in another workspace, second of its agents.
            #"{"workspaces":[{"id":"3f1d9a2e-7b4c-4e8a-9f10-112233445566","name":"a","agents":[{"id":"00000000-0000-4000-8000-000000000001","name":"x"},"#
                + #"{"id":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","name":"y"}]},{"id":"3f1d9a2e-7b4c-4e8a-9f10-000000000002","name":"b","agents":[]},"#
                + #"{"id":"3f1d9a2e-7b4c-4e8a-9f10-000000000003","name":"c","agents":[{"id":"00000000-0000-4000-8000-000000000009","name":"z"},"#
                + #"{"id":"A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF","name":"w"}]}]}"#,
            "state.json: workspaces[2].agents[1].id: duplicate agent id a1b2c3d4-e5f6-4711-8899-aabbccddeeff (also at workspaces[0].agents[1].id)"
        ),
        (
            #"{"workspaces":[{"id":"3f1d9a2e-7b4c-4e8a-9f10-112233445566","name":"a","agents":[{"id":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff"}]}]}"#,
            "state.json: workspaces[0].agents[0].name: missing"
        ),
        (
            #"{"workspaces":[{"id":"3f1d9a2e-7b4c-4e8a-9f10-112233445566","name":"a","agents":"none"}]}"#,
            "state.json: workspaces[0].agents: not an array"
        ),
    ]

    @Test("a bad file is rejected with a one-line error naming where", arguments: bad)
    func badFiles(text: String, expected: String) {
        do {
            _ = try Self.parse(text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.hasPrefix(expected), "got: \(error.description)")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func aNameThatWouldExceed255BytesIsSkippedAndReported() throws {
        let label = String(repeating: "a", count: 63)
        let text =
            #"{"workspaces":[{"id":"3f1d9a2e-7b4c-4e8a-9f10-112233445566","name":"\#(label)","agents":[{"id":"a1b2c3d4-e5f6-4711-8899-aabbccddeeff","name":"\#(label)"}]}]}"#
        let longOwner = try! ZoneConfiguration(suffix: String(repeating: "b", count: 63) + "." + String(repeating: "c", count: 60), owner: label)
        let loaded = try StateFile.parse(bytes: Array(text.utf8), source: "s", configuration: longOwner)
        #expect(loaded.state.agents.count == 1)
        #expect(loaded.skipped.map(\.location) == ["workspaces[0].agents[0]"])
        #expect(loaded.skipped.first?.reason.hasSuffix("is longer than 255 bytes") == true)
        // The same state under the usual configuration serves it: the check is the builder's.
        #expect(ZoneSnapshot(state: loaded.state, configuration: Self.configuration, serial: 1).skippedAgents == 0)
        #expect(ZoneSnapshot(state: loaded.state, configuration: longOwner, serial: 1).skippedAgents == 1)
    }

    @Test func syntaxErrorsNameTheLineAndColumn() {
        do {
            _ = try Self.parse("{\"workspaces\": [\n  {\"id\": \"x\",,}\n]}")
            Issue.record("accepted")
        } catch {
            #expect(error.description == "state.json: not valid JSON: unexpected character ',' at line 2, column 14")
        }
        #expect(throws: StateFileError.self) { try Self.parse("{\"workspaces\": []} x") }
        #expect(throws: StateFileError.self) { try Self.parse("{\"workspaces\": [\"unterminated]}") }
    }

    @Test func escapesUnknownKeysAndNestedValuesAreHandled() throws {
        let text = #"""
            {"version": {"nested": [1, 2.5e3, true, null, {"x": "y"}]}, "workspaces": [
              {"id": "3f1d9a2e-7b4c-4e8a-9f10-112233445566", "name": "myws", "extra": [[]],
               "agents": [{"id": "a1b2c3d4-e5f6-4711-8899-aabbccddeeff", "name": "main", "os": "linux"}]}
            ]}
            """#
        let state = try Self.parse(text)
        #expect(state.workspaces.values.first?.name == "myws")
        #expect(state.agents.values.first?.name == "main")
    }

    @Test func nonStringValuesAreNamedInTheError() {
        do {
            _ = try Self.parse(#"{"workspaces":[{"id":12,"name":"a"}]}"#)
            Issue.record("accepted")
        } catch {
            #expect(error.description == "state.json: workspaces[0].id: 12 is not a UUID")
        }
    }

    @Test func aMissingFileIsReported() {
        #expect(throws: StateFileError.self) {
            try StateFile.load(path: "/nonexistent/state.json", configuration: Self.configuration)
        }
    }
}
