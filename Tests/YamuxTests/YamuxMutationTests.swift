import TestSupport
import Testing
import Yamux

/// Mutated bytes must throw or succeed, never trap, whatever the read sizes.
@Suite("Mutated input")
struct YamuxMutationTests {
    static let validStream: [UInt8] =
        frame(.windowUpdate, .acknowledge, stream: 1, length: 0)
        + dataFrame(stream: 1, payload: Array(0..<200))
        + frame(.ping, .synchronize, stream: 0, length: 0x0102_0304)
        + frame(.ping, .acknowledge, stream: 0, length: 0)
        + frame(.windowUpdate, stream: 1, length: 0xFFFF_FFF0)
        + dataFrame(.synchronize, stream: 2, payload: [1, 2])
        + dataFrame(stream: 3, payload: [3])
        + dataFrame(.finish, stream: 1, payload: Array(repeating: 9, count: 70))
        + frame(.windowUpdate, .reset, stream: 1, length: 0)
        + frame(.goAway, stream: 0, length: 2)

    @Test(arguments: 0..<8 as Range<UInt64>)
    func mutatedStreamsThrowOrSucceedButNeverTrap(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        for _ in 0..<500 {
            var bytes = Self.validStream
            for _ in 0..<Int.random(in: 1...6, using: &random) {
                let position = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: bytes[position] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &random)
                case 2: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
                default: bytes.remove(at: position)
                }
            }
            var session = YamuxSession(now: 0)
            _ = session.openStream()
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 1...64, using: &random))
                do {
                    _ = try session.receive(bytes[start..<end], now: Double(start))
                    try session.send([1, 2, 3], streamID: 1)
                    try session.tick(now: Double(start))
                } catch {
                    #expect(error.description.hasPrefix("yamux: "))
                }
                _ = session.takeOutput()
                start = end
            }
        }
    }

    @Test func theUnmutatedStreamParsesCleanly() throws {
        var session = YamuxSession(now: 0)
        _ = session.openStream()
        let events = try session.receive(Self.validStream, now: 0)
        #expect(events.first == .streamEstablished(streamID: 1))
        #expect(events.last == .goAway(code: 2))
    }
}
