import ControlPlane
import Foundation
import RecordStore

enum Support {
    static let configuration = try! ZoneConfiguration(suffix: "coder", owner: "alice")

    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
    }

    /// Bytes from an annotated hex file: `#` comments and whitespace ignored.
    static func hex(_ name: String) throws -> [UInt8] {
        let text = try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
        let digits = text.split(separator: "\n").map { line in line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        }
        .joined().filter { !$0.isWhitespace }
        var bytes: [UInt8] = []
        var index = digits.startIndex
        while index < digits.endIndex {
            let next = digits.index(index, offsetBy: 2)
            bytes.append(UInt8(digits[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }

    static func workspace(_ id: String, _ name: String, _ status: WorkspaceStatus = .running) -> WorkspaceUpdate.Workspace {
        WorkspaceUpdate.Workspace(id: IdentifierField(Identifier(string: id)!), name: name, status: status)
    }

    static func agent(_ id: String, _ name: String, workspace: String) -> WorkspaceUpdate.Agent {
        WorkspaceUpdate.Agent(id: IdentifierField(Identifier(string: id)!), name: name, workspaceID: IdentifierField(Identifier(string: workspace)!))
    }

    static let ws1 = "3f1d9a2e-7b4c-4e8a-9f10-112233445566"
    static let ws2 = "5e0c2b7a-1d3f-4a6b-8c9d-0e1f2a3b4c5d"
    static let agent1 = "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"
    static let agent2 = "01020304-0506-0708-090a-0b0c0d0e0f10"
    static let agent3 = "c0ffee00-1234-4abc-9def-00112233aabb"
}
