/// A UUID as 16 bytes, held in two integers so it hashes and compares cheaply.
///
/// Parsed from the 8-4-4-4-12 text form (either letter case) or from 16 raw bytes, as the
/// control plane sends them.
public struct Identifier: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Bytes 0..7, big-endian.
    public let high: UInt64
    /// Bytes 8..15, big-endian.
    public let low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// From exactly 16 bytes; nil for any other length.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 16 else { return nil }
        if let value = bytes.withContiguousStorageIfAvailable({ Identifier(raw: UnsafeRawBufferPointer($0)) }) {
            guard let value else { return nil }
            self = value
        } else {
            self.init(raw: Array(bytes))
        }
    }

    /// From exactly 16 raw bytes; nil for any other length. The fast path for decoders: no
    /// generic iteration, two unaligned loads.
    public init?(raw bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 16 else { return nil }
        self.init(
            high: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            low: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
    }

    private init?(raw array: [UInt8]) {
        guard let value = array.withUnsafeBytes({ Identifier(raw: $0) }) else { return nil }
        self = value
    }

    /// From `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`; nil for anything else.
    public init?(string: String) {
        var text = string
        guard let value = text.withUTF8({ Identifier(text: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = value
    }

    /// From the 36 bytes of the text form, hex digits accumulated straight into the halves;
    /// a bad character is remembered in `bad` rather than branched on per byte. A table, not
    /// comparisons: in a random UUID digits and letters alternate unpredictably, and a branch
    /// per character costs more than the rest of the parse.
    private init?(text: UnsafeRawBufferPointer) {
        guard text.count == 36, text[8] == UInt8(ascii: "-"), text[13] == UInt8(ascii: "-"), text[18] == UInt8(ascii: "-"),
            text[23] == UInt8(ascii: "-")
        else { return nil }
        var halves: (UInt64, UInt64) = (0, 0)
        var bad: UInt8 = 0
        Self.nibbles.withUnsafeBufferPointer { table in
            var digits = 0
            for index in 0..<36 where index != 8 && index != 13 && index != 18 && index != 23 {
                let value = table[Int(text[index])]
                bad |= value
                if digits < 16 {
                    halves.0 = halves.0 << 4 | UInt64(value & 0x0F)
                } else {
                    halves.1 = halves.1 << 4 | UInt64(value & 0x0F)
                }
                digits += 1
            }
        }
        guard bad & 0xF0 == 0 else { return nil }
        self.init(high: halves.0, low: halves.1)
    }

    /// Each byte's hex-digit value, or 0xFF.
    static let nibbles: [UInt8] = (0...255).map { byte in hexValue(UInt8(byte)) ?? 0xFF }

    static func hexValue(_ char: UInt8) -> UInt8? {
        switch char {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): char - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): char - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): char - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    public var bytes: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * $0)) }
            + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
    }

    public var description: String {
        let hex = bytes.map { byte -> String in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        let chars = Array(hex)
        return String(chars[0..<8]) + "-" + String(chars[8..<12]) + "-" + String(chars[12..<16]) + "-"
            + String(chars[16..<20]) + "-" + String(chars[20..<32])
    }

    public static func < (lhs: Identifier, rhs: Identifier) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }
}
