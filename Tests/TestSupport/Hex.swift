/// Hex text as used by the fixture files: `#` starts a comment that runs to the end of the
/// line, and whitespace anywhere is ignored, so every field can sit on its own annotated line.
public enum Hex {
    public struct BadHex: Error, CustomStringConvertible {
        public let description: String
    }

    public static func bytes(_ text: String) throws -> [UInt8] {
        var nibbles: [UInt8] = []
        var inComment = false
        for character in text.utf8 {
            if inComment {
                if character == UInt8(ascii: "\n") { inComment = false }
                continue
            }
            switch character {
            case UInt8(ascii: "#"):
                inComment = true
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                continue
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                nibbles.append(character - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"):
                nibbles.append(character - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"):
                nibbles.append(character - UInt8(ascii: "A") + 10)
            default:
                throw BadHex(description: "unexpected character \(Unicode.Scalar(character)) outside a comment")
            }
        }
        guard nibbles.count.isMultiple(of: 2) else {
            throw BadHex(description: "odd number of hex digits (\(nibbles.count))")
        }
        return stride(from: 0, to: nibbles.count, by: 2).map { nibbles[$0] << 4 | nibbles[$0 + 1] }
    }

    /// Lower-case hex, two digits a byte, for failure messages.
    public static func string(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0F)]] })
    }
}
