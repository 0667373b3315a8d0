import Foundation
import TestSupport

/// The reference transcripts under the repository's Fixtures/drpc folder, written by
/// storj.io/drpc v0.0.33 itself (see Fixtures/drpc/README.md).
enum Fixture {
    /// This file is Tests/DRPCTests/Fixture.swift, so the root is three levels up.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    static let directory = repositoryRoot.appendingPathComponent("Fixtures").appendingPathComponent("drpc")

    /// The bytes of Fixtures/drpc/`name`.
    static func bytes(_ name: String) throws -> [UInt8] {
        let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
        return try Hex.bytes(text)
    }

    static func clientToServer(_ transcript: String) throws -> [UInt8] {
        try bytes("\(transcript).client-to-server.hex")
    }

    static func serverToClient(_ transcript: String) throws -> [UInt8] {
        try bytes("\(transcript).server-to-client.hex")
    }
}
