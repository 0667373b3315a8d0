import DRPC
import TestSupport
import Testing

/// Mutated transcripts must throw or give events, never trap.
@Suite("Mutated input")
struct MutationTests {
    @Test("seeded random mutations of the reference transcripts never trap", arguments: TranscriptTests.transcripts)
    func mutationsNeverTrap(transcript: String) throws {
        var original = try Fixture.serverToClient(transcript)
        if original.count > 4096 {
            // The large transcript's headers are what matter; keep its first frame header and a tail.
            original = Array(original.prefix(2048)) + Array(original.suffix(2048))
        }
        var generator = SeededGenerator(seed: UInt64(transcript.utf8.count))
        for _ in 0..<2_000 {
            var bytes = original
            for _ in 0...generator.below(4) {
                let index = generator.below(bytes.count)
                switch generator.below(4) {
                case 0: bytes[index] = UInt8(truncatingIfNeeded: generator.next())
                case 1: bytes[index] ^= 1 << UInt8(generator.below(8))
                case 2: bytes.remove(at: index)
                default: bytes.insert(UInt8(truncatingIfNeeded: generator.next()), at: index)
                }
                if bytes.isEmpty { bytes = [0] }
            }
            let cuts = Feeding.randomCuts(count: bytes.count, maximumChunk: 64, using: &generator)
            let whole = Result { () throws(DRPCError) in try Feeding.events(bytes, maximumMessageSize: 1 << 20) }
            let split = Result { () throws(DRPCError) in try Feeding.events(bytes, cuts: cuts, maximumMessageSize: 1 << 20) }
            // Splitting never changes the outcome.
            #expect(whole == split)
        }
    }

    @Test("random bytes never trap")
    func randomBytesNeverTrap() {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<2_000 {
            let bytes = (0..<generator.below(200)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            _ = try? Feeding.events(bytes, maximumMessageSize: 1 << 16)
        }
    }
}
