import DNSWire
import TestSupport
import Testing

/// What parsing a mutated message did.
struct MutationTally {
    var parsed = 0
    var threw = 0
    /// Error cases seen, by name, to show the mutations reach many checks.
    var errorKinds: Set<String> = []

    mutating func record(_ bytes: [UInt8], context: @autoclosure @escaping () -> String) {
        do throws(WireError) {
            let message = try Message(bytes: bytes)
            parsed += 1
            // Whatever parses must write back into bytes that parse, and writing is then stable.
            // (Not `== message`: a suffix that differs only in case comes back in the case
            // written first.)
            let written = message.bytes
            let again = try Message(bytes: written)
            #expect(again.bytes == written, "\(context())")
            #expect(again.questions.count == message.questions.count, "\(context())")
        } catch {
            threw += 1
            errorKinds.insert(String(describing: error).prefix { $0 != "(" }.description)
        }
    }
}

@Suite("Mutated messages parse or throw WireError, never trap")
struct MutationTests {
    /// Valid messages to start from: the annotated ones, the compression example and random ones.
    static func seeds() -> [[UInt8]] {
        var random = RandomMessages(seed: 0xC0DE)
        return AnnotatedMessages.all.map(\.1) + [NameCompressionTests.compressedResponse]
            + (0..<12).map { _ in random.message().bytes }
    }

    /// Byte values that sit on the boundaries the parser checks.
    static let interestingBytes: [UInt8] = [0x00, 0x01, 0x3F, 0x40, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xFF]

    /// One random edit: flip a bit, overwrite a byte, truncate, insert or delete bytes.
    static func mutate(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        switch generator.below(6) {
        case 0 where !bytes.isEmpty:
            bytes[generator.below(bytes.count)] ^= 1 << UInt8(generator.below(8))
        case 1 where !bytes.isEmpty:
            bytes[generator.below(bytes.count)] =
                generator.chance(50) ? generator.pick(interestingBytes) : generator.byte()
        case 2:
            bytes.removeLast(generator.below(bytes.count + 1))
        case 3:
            let inserted = (0..<generator.int(in: 1...4)).map { _ in
                generator.chance(50) ? generator.pick(interestingBytes) : generator.byte()
            }
            bytes.insert(contentsOf: inserted, at: generator.below(bytes.count + 1))
        case 4 where !bytes.isEmpty:
            let start = generator.below(bytes.count)
            bytes.removeSubrange(start..<min(bytes.count, start + generator.int(in: 1...4)))
        case 5 where bytes.count >= 12:
            // A count field: make the header promise more (or fewer) entries than follow.
            let field = 4 + 2 * generator.below(4)
            bytes[field] = generator.chance(80) ? 0 : generator.byte()
            bytes[field + 1] = generator.byte()
        default:
            bytes.append(generator.byte())
        }
    }

    @Test("Thousands of single and multiple mutations parse or throw", arguments: [7, 8] as [UInt64])
    func mutationsParseOrThrow(seed: UInt64) {
        var generator = SeededGenerator(seed: seed)
        var tally = MutationTally()
        let seeds = Self.seeds()
        for round in 0..<6000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<(generator.chance(70) ? 1 : generator.int(in: 2...6)) {
                Self.mutate(&bytes, using: &generator)
            }
            tally.record(bytes, context: "seed \(seed) round \(round): \(Hex.string(bytes))")
        }
        #expect(tally.parsed > 100)
        #expect(tally.threw > 100)
        for kind in ["truncated", "badLabelType", "badPointer", "badRecordData"] {
            #expect(tally.errorKinds.contains(kind), "no mutation produced \(kind): \(tally.errorKinds)")
        }
    }

    @Test("Every single-bit flip of every seed parses or throws")
    func everyBitFlipParsesOrThrows() {
        var tally = MutationTally()
        for seed in Self.seeds().prefix(4) {
            for index in seed.indices {
                for bit in 0..<8 {
                    var bytes = seed
                    bytes[index] ^= 1 << UInt8(bit)
                    tally.record(bytes, context: "flip byte \(index) bit \(bit) of \(Hex.string(seed))")
                }
            }
        }
        #expect(tally.parsed > 0)
        #expect(tally.threw > 0)
    }

    @Test("Every truncation of every seed throws truncated")
    func everyTruncationThrows() {
        for seed in Self.seeds() {
            for length in 0..<seed.count {
                let error = #expect(throws: WireError.self) { try Message(bytes: Array(seed.prefix(length))) }
                guard case .truncated? = error else {
                    Issue.record("\(length) bytes of \(Hex.string(seed)) threw \(String(describing: error))")
                    continue
                }
            }
        }
    }

    @Test("Random byte strings after a plausible header parse or throw")
    func randomBytesParseOrThrow() {
        var generator = SeededGenerator(seed: 99)
        var tally = MutationTally()
        for round in 0..<3000 {
            let header = headerBytes(
                id: generator.uint16(), flags: generator.uint16(), questions: UInt16(generator.below(3)),
                answers: UInt16(generator.below(3)), authority: UInt16(generator.below(2)),
                additional: UInt16(generator.below(2)))
            let body = (0..<generator.below(80)).map { _ in
                generator.chance(20) ? generator.pick(Self.interestingBytes) : generator.byte()
            }
            tally.record(header + body, context: "round \(round): \(Hex.string(header + body))")
        }
        #expect(tally.threw > 0)
    }
}
