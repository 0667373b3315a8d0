import Foundation
import TestSupport

/// Files under the repository's Fixtures/ folder.
enum Fixture {
    /// This file is Tests/DNSWireTests/Fixture.swift, so the root is three levels up.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    static let wireDirectory = repositoryRoot.appendingPathComponent("Fixtures").appendingPathComponent("wire")

    /// The payload bytes of Fixtures/wire/`name`.
    static func wire(_ name: String) throws -> [UInt8] {
        let text = try String(contentsOf: wireDirectory.appendingPathComponent(name), encoding: .utf8)
        return try Hex.bytes(text)
    }

    /// Every `.hex` file in Fixtures/wire, sorted.
    static func wireFileNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: wireDirectory.path)
            .filter { $0.hasSuffix(".hex") }
            .sorted()
    }
}
