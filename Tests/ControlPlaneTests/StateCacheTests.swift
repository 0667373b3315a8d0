import ControlPlane
import Foundation
import RecordStore
import TestSupport
import Testing

@Suite("The state cache on disk")
struct StateCacheTests {
    static func state(count: Int) -> WorkspaceState {
        var state = WorkspaceState()
        for index in 0..<count {
            let ws = Identifier(high: UInt64(index) + 1, low: 1)
            let agent = Identifier(high: UInt64(index) + 1, low: 2)
            state.workspaces[ws] = Workspace(id: ws, name: "ws\(index)", status: .running)
            state.agents[agent] = Agent(id: agent, name: "main", workspaceID: ws)
        }
        return state
    }

    static func directory() -> String {
        let path = NSTemporaryDirectory() + "coderdns-cache-test-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func whatIsSavedLoadsBack() throws {
        let cache = StateCache(directory: Self.directory())
        let state = Self.state(count: 500)
        try cache.save(state, now: 1_700_000_000)
        let loaded = cache.load(configuration: Support.configuration)
        #expect(loaded.state == state)
        #expect(loaded.savedAt == 1_700_000_000)
        #expect(loaded.problems.isEmpty)
        #expect(loaded.source == cache.currentPath)
    }

    @Test func theFormatHasAVersionAndAChecksum() {
        let bytes = StateCache.encode(Self.state(count: 1), savedAt: 5)
        #expect(Array(bytes[0..<8]) == Array("CDNSSTAT".utf8))
        #expect(Array(bytes[8..<12]) == [0, 0, 0, 1])
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)  // the standard check value
        // Slicing-by-8 against the plain bitwise definition, at every length and alignment
        // up to 40 bytes (the tail loop and the eight-byte loop both).
        var generator = SeededGenerator(seed: 0xC3C3_2032)
        let random = (0..<48).map { _ in UInt8.random(in: 0...255, using: &generator) }
        for start in 0..<8 {
            for length in 0...40 {
                let slice = random[start..<(start + length)]
                var crc: UInt32 = 0xFFFF_FFFF
                for byte in slice {
                    crc ^= UInt32(byte)
                    for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
                }
                #expect(CRC32.checksum(slice) == crc ^ 0xFFFF_FFFF, "start \(start), length \(length)")
            }
        }
    }

    /// Each way of spoiling the current copy; the previous good copy must be used instead.
    static let corruptions: [(String, @Sendable ([UInt8]) -> [UInt8])] = [
        (
            "a flipped payload byte",
            {
                var b = $0; b[b.count - 3] ^= 0x40; return b
            }
        ),
        ("truncated", { Array($0.prefix($0.count - 10)) }),
        ("shorter than the header", { Array($0.prefix(10)) }),
        (
            "an unknown version",
            {
                var b = $0; b[11] = 9; return b
            }
        ),
        (
            "a bad magic",
            {
                var b = $0; b[0] = 0x58; return b
            }
        ),
        ("empty", { _ in [] }),
        ("padded", { $0 + [0] }),
        // Well sealed but inconsistent: the checksum is recomputed after the change. The
        // layout (4 workspaces "wsN", 4 agents "main"): header 24 bytes, saved-at 8, count 4,
        // workspace records of 21 bytes from 36; count 4 at 120, agent records of 37 bytes
        // from 124 (id 16, workspace id 16, name).
        ("a repeated workspace id, resealed", { resealed($0) { $0.replaceSubrange(57..<73, with: $0[36..<52]) } }),
        ("a repeated agent id, resealed", { resealed($0) { $0.replaceSubrange(161..<177, with: $0[124..<140]) } }),
        (
            "an agent of an unknown workspace, resealed",
            { resealed($0) { $0.replaceSubrange(140..<156, with: [UInt8](repeating: 0xEE, count: 16)) } }
        ),
    ]

    /// `file` changed by `change`, with its checksum recomputed.
    static func resealed(_ file: [UInt8], _ change: (inout [UInt8]) -> Void) -> [UInt8] {
        var bytes = file
        change(&bytes)
        let checksum = CRC32.checksum(bytes[24...])
        bytes.replaceSubrange(20..<24, with: withUnsafeBytes(of: checksum.bigEndian) { Array($0) })
        return bytes
    }

    @Test("a spoiled cache is reported and the previous copy used", arguments: corruptions)
    func fallsBackToThePreviousCopy(label: String, spoil: @Sendable ([UInt8]) -> [UInt8]) throws {
        let cache = StateCache(directory: Self.directory())
        let older = Self.state(count: 3)
        let newer = Self.state(count: 4)
        try cache.save(older, now: 1)
        try cache.save(newer, now: 2)
        let current = try [UInt8](Data(contentsOf: URL(fileURLWithPath: cache.currentPath)))
        try Data(spoil(current)).write(to: URL(fileURLWithPath: cache.currentPath))
        let loaded = cache.load(configuration: Support.configuration)
        #expect(loaded.state == older, "\(label)")
        #expect(loaded.source == cache.previousPath)
        #expect(loaded.problems.count == 1)
        #expect(loaded.problems.first?.path == cache.currentPath)
    }

    @Test(
        "a well-sealed but inconsistent cache is refused for what is wrong",
        arguments: [
            ("a repeated workspace id, resealed", "duplicate workspace 00000000-0000-0001-0000-000000000001"),
            ("a repeated agent id, resealed", "duplicate agent 00000000-0000-0001-0000-000000000002"),
            ("an agent of an unknown workspace, resealed", "bad agent record for 00000000-0000-0001-0000-000000000002"),
        ])
    func inconsistentRecords(label: String, expected: String) throws {
        let cache = StateCache(directory: Self.directory())
        try cache.save(Self.state(count: 4), now: 2)
        let spoil = try #require(Self.corruptions.first { $0.0 == label }?.1)
        let current = try [UInt8](Data(contentsOf: URL(fileURLWithPath: cache.currentPath)))
        try Data(spoil(current)).write(to: URL(fileURLWithPath: cache.currentPath))
        let loaded = cache.load(configuration: Support.configuration)
        #expect(loaded.state == nil)
        #expect(loaded.problems.first.map { "\($0)" }?.contains(expected) == true, "\(loaded.problems)")
    }

    @Test func withBothCopiesSpoiledThereIsNoState() throws {
        let cache = StateCache(directory: Self.directory())
        try cache.save(Self.state(count: 2), now: 1)
        try cache.save(Self.state(count: 2), now: 2)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: cache.currentPath))
        try Data("CDNSSTAT".utf8).write(to: URL(fileURLWithPath: cache.previousPath))
        let loaded = cache.load(configuration: Support.configuration)
        #expect(loaded.state == nil)
        #expect(loaded.problems.count == 2)
    }

    @Test func noCacheIsNotAProblem() {
        let loaded = StateCache(directory: Self.directory()).load(configuration: Support.configuration)
        #expect(loaded.state == nil)
        #expect(loaded.problems.isEmpty)
    }
}

@Suite("Endpoints, backoff and durations")
struct SettingsTests {
    @Test func endpointsParse() throws {
        #expect(try ControlPlaneEndpoint("[::1]:9000") == .inet(host: "::1", port: 9000, isV6: true))
        #expect(try ControlPlaneEndpoint("127.0.0.1:80") == .inet(host: "127.0.0.1", port: 80, isV6: false))
        #expect(try ControlPlaneEndpoint("unix:/run/coder.sock") == .unix(path: "/run/coder.sock"))
        for bad in [
            "", "::1:9000", "[::1]", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:70000", "unix:", "host",
            // Host names are refused, not resolved, and an address must be of its brackets' kind.
            "coder.example.com:443", "[localhost]:53", "[127.0.0.1]:53",
        ] {
            #expect(throws: ControlPlaneEndpoint.ParseError.self, "\(bad)") { try ControlPlaneEndpoint(bad) }
        }
    }

    @Test func backoffDoublesFrom50msTo10sWithJitter() {
        var backoff = Backoff()
        let delays = (0..<12).map { _ in backoff.next(random: 0.999_999) }
        #expect(abs(delays[0] - 0.05) < 0.001)
        #expect(abs(delays[1] - 0.1) < 0.001)
        #expect(abs(delays[11] - 10) < 0.001)
        var low = Backoff()
        #expect(abs(low.next(random: 0) - 0.025) < 0.001)
        backoff.reset()
        #expect(backoff.next(random: 0.999_999) < 0.051)
    }

    @Test func durationsParse() {
        #expect(Duration.seconds(from: "90s") == 90)
        #expect(Duration.seconds(from: "5m") == 300)
        #expect(Duration.seconds(from: "1h30m") == 5400)
        #expect(Duration.seconds(from: "500ms") == 0.5)
        for bad in ["", "5", "m", "5x", "-5s", "0s", "5 m"] { #expect(Duration.seconds(from: bad) == nil, "\(bad)") }
    }
}
