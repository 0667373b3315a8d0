/// A small deterministic pseudo-random generator (SplitMix64, Steele, Lea and Flood 2014).
///
/// The property and mutation tests draw everything from this type instead of the standard
/// library's random APIs, whose algorithms may change between toolchains: a given seed produces
/// the same messages and mutations everywhere, so a failure can be replayed from its seed.
/// Shared by every test target (`TestSupport`); a `RandomNumberGenerator`, so
/// `Int.random(in:using:)` and friends take it too.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound` (the modulo bias is irrelevant for tests).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0)
        return Int(next() % UInt64(bound))
    }

    public mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + below(range.count)
    }

    /// True with the given probability in percent.
    public mutating func chance(_ percent: Int) -> Bool {
        below(100) < percent
    }

    public mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
    public mutating func uint16() -> UInt16 { UInt16(truncatingIfNeeded: next()) }
    public mutating func uint32() -> UInt32 { UInt32(truncatingIfNeeded: next()) }

    public mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in byte() }
    }

    public mutating func pick<Element>(_ elements: [Element]) -> Element {
        elements[below(elements.count)]
    }
}
