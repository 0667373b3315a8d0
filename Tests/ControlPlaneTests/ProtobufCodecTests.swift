import ControlPlane
import RecordStore
import TestSupport
import Testing

/// The hand-written protobuf codec, checked against bytes written out by hand from the
/// encoding rules (https://protobuf.dev/programming-guides/encoding/) and against the
/// fixtures that swift-protobuf's generated code produced.
@Suite("The protobuf codec")
struct ProtobufCodecTests {
    typealias S = Support

    /// 16 bytes of an id, for building messages by hand.
    static func id(_ text: String) -> [UInt8] { Identifier(string: text)!.bytes }

    static func decode(_ bytes: [UInt8]) throws -> WorkspaceUpdate { try WorkspaceUpdate.decode(bytes) }

    static func everything() -> WorkspaceUpdate {
        var update = WorkspaceUpdate()
        update.upsertedWorkspaces = WorkspaceStatus.allCases.enumerated().map { index, status in
            S.workspace("3f1d9a2e-7b4c-4e8a-9f10-1122334455\(10 + index)", "ws\(index)", status)
        }
        update.upsertedWorkspaces.append(WorkspaceUpdate.Workspace(id: .empty, name: "", status: .unknown))
        update.upsertedWorkspaces.append(WorkspaceUpdate.Workspace(id: IdentifierField(bytes: [1, 2, 3]), name: "émoji-🙂"))
        update.upsertedAgents = [
            S.agent(S.agent1, "main", workspace: S.ws1), S.agent(S.agent2, String(repeating: "a", count: 300), workspace: S.ws2),
        ]
        update.deletedWorkspaces = [WorkspaceUpdate.Workspace(id: IdentifierField(Identifier(string: S.ws2)!))]
        update.deletedAgents = [WorkspaceUpdate.Agent(id: IdentifierField(Identifier(string: S.agent3)!)), WorkspaceUpdate.Agent()]
        return update
    }

    // MARK: Round trips and fixtures

    @Test func everyFieldRoundTrips() throws {
        let update = Self.everything()
        #expect(try Self.decode(update.serializedBytes()) == update)
    }

    @Test func theRequestRoundTrips() throws {
        let request = WorkspaceUpdatesRequest(workspaceOwnerID: IdentifierField(Identifier(string: S.ws1)!))
        #expect(try WorkspaceUpdatesRequest(serializedBytes: request.serializedBytes()) == request)
        #expect(WorkspaceUpdatesRequest().serializedBytes() == [], "an empty owner id is the proto3 default: left out")
        #expect(try WorkspaceUpdatesRequest(serializedBytes: []) == WorkspaceUpdatesRequest())
    }

    @Test func theSnapshotFixtureDecodesToItsFields() throws {
        var framer = DelimitedFramer()
        framer.append(try S.hex("controlplane/workspace-update-snapshot.hex"))
        let message = try #require(try framer.nextMessage())
        var expected = WorkspaceUpdate()
        expected.upsertedWorkspaces = [S.workspace(S.ws1, "myws", .running)]
        expected.upsertedAgents = [S.agent(S.agent1, "main", workspace: S.ws1)]
        #expect(try Self.decode(message) == expected)
        #expect(expected.serializedBytes() == message)
    }

    @Test func theRequestFixtureDecodesToItsField() throws {
        var framer = DelimitedFramer()
        framer.append(try S.hex("controlplane/workspace-updates-request.hex"))
        let message = try #require(try framer.nextMessage())
        let request = try WorkspaceUpdatesRequest(serializedBytes: message)
        #expect(request.workspaceOwnerID.identifier == Identifier(string: "0f0e0d0c-0b0a-4908-8706-050403020100"))
    }

    @Test func defaultsAreLeftOutAndFieldsGoInFieldNumberOrder() {
        var update = WorkspaceUpdate()
        // Set in the reverse of wire order: the bytes still go 1, 2, 3, 4.
        update.deletedAgents = [WorkspaceUpdate.Agent(id: IdentifierField(Identifier(string: S.agent3)!))]
        update.deletedWorkspaces = [WorkspaceUpdate.Workspace()]
        update.upsertedAgents = [WorkspaceUpdate.Agent(name: "a")]
        update.upsertedWorkspaces = [WorkspaceUpdate.Workspace(name: "w", status: .stopped)]
        let expected: [UInt8] =
            [
                0x0A, 0x05,  // field 1 (upserted_workspaces), 5 bytes
                0x12, 0x01, 0x77,  //   name (field 2) "w"; the empty id is left out
                0x18, 0x05,  //   status (field 3) STOPPED = 5
                0x12, 0x03,  // field 2 (upserted_agents), 3 bytes
                0x12, 0x01, 0x61,  //   name "a"; both empty ids left out
                0x1A, 0x00,  // field 3 (deleted_workspaces): an all-default element is still sent
                0x22, 0x12,  // field 4 (deleted_agents), 18 bytes
                0x0A, 0x10,  //   id (field 1), 16 bytes
            ] + Self.id(S.agent3)
        #expect(update.serializedBytes() == expected)
    }

    @Test func aLengthOver127TakesATwoByteVarint() throws {
        var update = WorkspaceUpdate()
        update.upsertedAgents = [WorkspaceUpdate.Agent(name: String(repeating: "x", count: 200))]
        let bytes = update.serializedBytes()
        // 203 = 0xCB: 0xCB 0x01 as a varint; then the name's tag and 200 = 0xC8 0x01.
        #expect(Array(bytes.prefix(6)) == [0x12, 0xCB, 0x01, 0x12, 0xC8, 0x01])
        #expect(bytes.count == 206)
        #expect(try Self.decode(bytes) == update)
    }

    @Test func anIdOfAnotherLengthKeepsOnlyItsLength() throws {
        let field = IdentifierField(bytes: [9, 9, 9])
        #expect(field.identifier == nil)
        #expect(field.length == 3)
        let request = WorkspaceUpdatesRequest(workspaceOwnerID: field)
        #expect(request.serializedBytes() == [0x0A, 0x03, 0x00, 0x00, 0x00])
        #expect(try WorkspaceUpdatesRequest(serializedBytes: [0x0A, 0x03, 9, 9, 9]).workspaceOwnerID == field)
    }

    // MARK: Malformed input

    static let malformed: [(String, [UInt8], String)] = [
        ("a truncated tag", [0x80], "truncated varint at byte 0"),
        ("a truncated varint value", [0x0A, 0x00, 0x08, 0x96], "truncated varint at byte 3"),
        ("an 11-byte varint", [0x08] + Array(repeating: 0x80, count: 10) + [0x01], "overlong varint (over 10 bytes or 64 bits) at byte 1"),
        ("a 10-byte varint past 64 bits", [0x08] + Array(repeating: 0xFF, count: 9) + [0x02], "overlong varint (over 10 bytes or 64 bits) at byte 1"),
        ("a length past the end", [0x0A, 0x05, 0x01], "length 5 at byte 1 runs past the end (bytes left: 1)"),
        (
            "a length of 2^64 - 1", [0x0A] + Array(repeating: 0xFF, count: 9) + [0x01],
            "length 18446744073709551615 at byte 1 runs past the end (bytes left: 0)"
        ),
        ("a start-group tag", [0x0B], "group (wire type 3) for field 1 at byte 0: groups are not supported"),
        ("an end-group tag", [0x0A, 0x00, 0x2C], "group (wire type 4) for field 5 at byte 2: groups are not supported"),
        ("wire type 6", [0x0E], "unknown wire type 6 for field 1 at byte 0"),
        ("wire type 7", [0x3F], "unknown wire type 7 for field 7 at byte 0"),
        ("field number 0", [0x00, 0x00], "field number 0 at byte 0"),
        ("field number 0, length-delimited", [0x02, 0x00], "field number 0 at byte 0"),
        ("field number 2^29", [0x80, 0x80, 0x80, 0x80, 0x10], "field number over 536870911 at byte 0"),
        ("a truncated fixed32", [0x2D, 0x01, 0x02, 0x03], "truncated fixed32 at byte 1"),
        ("a truncated fixed64", [0x29, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07], "truncated fixed64 at byte 1"),
        ("a truncated varint in a workspace", [0x0A, 0x02, 0x18, 0x80], "truncated varint at byte 3 in upserted_workspaces[0]"),
        (
            // The agent is 2 bytes; its id claims 5, which the whole message has but the agent has not.
            "a nested length past the nested message's end", [0x12, 0x02, 0x0A, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00],
            "length 5 at byte 3 runs past the end (bytes left: 0) in upserted_agents[0]"
        ),
        (
            "a group in the second workspace", [0x1A, 0x00, 0x1A, 0x01, 0x0B],
            "group (wire type 3) for field 1 at byte 4: groups are not supported in deleted_workspaces[1]"
        ),
        ("field 0 in a deleted agent", [0x22, 0x02, 0x00, 0x00], "field number 0 at byte 2 in deleted_agents[0]"),
        ("a name that is not UTF-8", [0x0A, 0x03, 0x12, 0x01, 0xFF], "string field 2 at byte 2 is not UTF-8 in upserted_workspaces[0]"),
        ("a truncated fixed32 in an agent", [0x12, 0x03, 0x3D, 0x00, 0x00], "truncated fixed32 at byte 3 in upserted_agents[0]"),
    ]

    @Test("malformed bytes are rejected with the reason", arguments: malformed)
    func malformedBytesAreRejected(label: String, bytes: [UInt8], detail: String) {
        #expect(throws: UpdateError.undecodable(detail), "\(label)") { try WorkspaceUpdate.decode(bytes) }
    }

    @Test func theRejectionReadsAsOneLine() {
        let error = UpdateError.undecodable("truncated varint at byte 3 in upserted_workspaces[0]")
        #expect(error.description == "message does not decode as a WorkspaceUpdate: truncated varint at byte 3 in upserted_workspaces[0]")
        #expect(throws: ProtobufError.truncatedVarint(at: 0)) { try WorkspaceUpdatesRequest(serializedBytes: [0xFF]) }
    }

    @Test func theLargestVarintIsAccepted() throws {
        // Ten bytes, the last carrying bit 63 only: 2^64 - 1, valid (as an unknown field).
        #expect(try Self.decode([0x08] + Array(repeating: 0xFF, count: 9) + [0x01]) == WorkspaceUpdate())
        // A non-minimal encoding of 3 is valid protobuf too.
        let status = try Self.decode([0x0A, 0x04, 0x18, 0x83, 0x80, 0x00])
        #expect(status.upsertedWorkspaces.map(\.status) == [.running])
    }

    // MARK: Unknown fields, repeated fields, enums

    /// One unknown field of each wire type that can be skipped: field 9.
    static let unknownFields: [(String, [UInt8])] = [
        ("varint", [0x48, 0x96, 0x01]),
        ("fixed64", [0x49, 1, 2, 3, 4, 5, 6, 7, 8]),
        ("length-delimited", [0x4A, 0x03, 0x61, 0x62, 0x63]),
        ("fixed32", [0x4D, 1, 2, 3, 4]),
        // A field of the schema with another wire type than the schema's is unknown too,
        // as protobuf's own parsers treat it: a name (field 2) as a varint.
        ("a known field number with another wire type", [0x10, 0x05]),
    ]

    @Test("unknown fields are skipped, at the top and inside a message", arguments: unknownFields)
    func unknownFieldsAreSkipped(label: String, field: [UInt8]) throws {
        let workspace = [0x0A, 0x10] + Self.id(S.ws1) + [0x12, 0x04] + Array("myws".utf8) + [0x18, 0x03]
        let agent = [0x0A, 0x10] + Self.id(S.agent1) + [0x1A, 0x10] + Self.id(S.ws1)
        let bytes: [UInt8] =
            field + [0x0A, UInt8(workspace.count + field.count)] + field + workspace + [0x12, UInt8(agent.count + field.count)] + agent + field
        var expected = WorkspaceUpdate()
        expected.upsertedWorkspaces = [S.workspace(S.ws1, "myws", .running)]
        expected.upsertedAgents = [
            WorkspaceUpdate.Agent(id: IdentifierField(Identifier(string: S.agent1)!), workspaceID: IdentifierField(Identifier(string: S.ws1)!))
        ]
        #expect(try Self.decode(bytes) == expected, "\(label)")
    }

    @Test func forASingularFieldTheLastOccurrenceWins() throws {
        let workspace: [UInt8] =
            [0x0A, 0x10] + Self.id(S.ws1)  // id
            + [0x12, 0x03] + Array("one".utf8)  // name
            + [0x18, 0x05]  // status STOPPED
            + [0x0A, 0x10] + Self.id(S.ws2)  // id again
            + [0x12, 0x03] + Array("two".utf8)  // name again
            + [0x18, 0x03]  // status again: RUNNING
        let bytes = [0x0A, UInt8(workspace.count)] + workspace
        let update = try Self.decode(bytes)
        #expect(update.upsertedWorkspaces == [S.workspace(S.ws2, "two", .running)])
    }

    @Test func repeatedElementsAccumulateInOrderEvenWhenInterleaved() throws {
        let first = [0x0A, 0x10] + Self.id(S.agent1)
        let second = [0x0A, 0x10] + Self.id(S.agent2)
        let bytes: [UInt8] = [0x22, 0x12] + first + [0x0A, 0x00] + [0x22, 0x12] + second
        let update = try Self.decode(bytes)
        #expect(update.deletedAgents.map(\.id.identifier) == [Identifier(string: S.agent1), Identifier(string: S.agent2)])
        #expect(update.upsertedWorkspaces == [WorkspaceUpdate.Workspace()])
    }

    static let statuses: [(UInt64, WorkspaceStatus)] = [
        (3, .running), (10, .deleted), (11, .unknown), (300, .unknown),
        // An enum is an int32: -1 is sent as ten bytes, and only the low 32 bits count.
        (UInt64.max, .unknown), (1 << 32 | 3, .running),
    ]

    @Test("a status decodes, and one outside the enum is unknown", arguments: statuses)
    func statusValues(value: UInt64, status: WorkspaceStatus) throws {
        var varint: [UInt8] = []
        var rest = value
        while rest >= 0x80 {
            varint.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        varint.append(UInt8(rest))
        let workspace = [0x0A, 0x10] + Self.id(S.ws1) + [0x18] + varint
        let update = try Self.decode([0x0A, UInt8(workspace.count)] + workspace)
        #expect(update.upsertedWorkspaces.map(\.status) == [status])
    }

    // MARK: Mutation

    @Test func mutatedSnapshotsDecodeOrThrowAndNeverTrap() {
        var generator = SeededGenerator(seed: 0x00C0_DE0D_5EED)
        let original = Self.everything().serializedBytes()
        var decoded = 0
        var rejected = 0
        for _ in 0..<5000 {
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let index = Int.random(in: 0..<max(1, bytes.count), using: &generator)
                switch Int.random(in: 0..<6, using: &generator) {
                case 0 where !bytes.isEmpty: bytes[index] ^= UInt8(1 << Int.random(in: 0..<8, using: &generator))
                case 1 where !bytes.isEmpty: bytes[index] = UInt8.random(in: 0...255, using: &generator)
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &generator), at: min(index, bytes.count))
                case 3 where !bytes.isEmpty: bytes.remove(at: index)
                case 4: bytes.removeLast(bytes.count - min(index, bytes.count))
                default:
                    let end = min(bytes.count, index + Int.random(in: 1...20, using: &generator))
                    bytes.insert(contentsOf: bytes[index..<end], at: end)
                }
            }
            let update: WorkspaceUpdate
            do throws(UpdateError) {
                update = try WorkspaceUpdate.decode(bytes)
            } catch {
                rejected += 1
                if case .undecodable = error { continue }
                Issue.record("decode threw \(error), not .undecodable")
                continue
            }
            decoded += 1
            // Whatever decodes writes out and reads back the same.
            let again = Result { () throws(UpdateError) in try WorkspaceUpdate.decode(update.serializedBytes()) }
            #expect(again == .success(update))
        }
        // Both outcomes must be common, or the mutations are not exercising the decoder.
        #expect(decoded > 200, "decoded \(decoded), rejected \(rejected)")
        #expect(rejected > 200, "decoded \(decoded), rejected \(rejected)")
    }
}
