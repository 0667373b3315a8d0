/// A pull reader for JSON (RFC 8259) that builds nothing on its own: callers walk objects and
/// arrays and read the values they want, so a large state file costs only the state it
/// describes. Errors carry the line and column.
///
/// The bytes are borrowed: the caller keeps them alive (an array's storage, or a file mapped
/// into memory) while the cursor is used.
public struct JSONCursor {
    let bytes: UnsafeRawBufferPointer
    private(set) var position = 0
    /// Bytes before this are forgotten (their memory may be gone): error positions count
    /// their lines from what ``forget(upTo:)`` recorded.
    private var forgotten = 0
    private var forgottenLines = 0
    /// Where the line containing `forgotten` starts.
    private var forgottenLineStart = 0

    public init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    public struct SyntaxError: Error {
        public let message: String
        public let line: Int
        public let column: Int
        public var description: String { "\(message) at line \(line), column \(column)" }
    }

    /// What kind of value starts at the cursor.
    public enum Kind {
        case object, array, string, number, literal
    }

    func error(_ message: String, at offset: Int? = nil) -> SyntaxError {
        let end = max(min(offset ?? position, bytes.count), forgotten)
        var line = 1 + forgottenLines
        var lineStart = forgottenLineStart
        for index in forgotten..<end where bytes[index] == UInt8(ascii: "\n") {
            line += 1
            lineStart = index + 1
        }
        return SyntaxError(message: message, line: line, column: end - lineStart + 1)
    }

    /// Notes the lines before `offset` (at most ``position``), so error positions stay right
    /// after the memory below it is let go.
    mutating func forget(upTo offset: Int) {
        let end = min(offset, position)
        guard end > forgotten else { return }
        for index in forgotten..<end where bytes[index] == UInt8(ascii: "\n") {
            forgottenLines += 1
            forgottenLineStart = index + 1
        }
        forgotten = end
    }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    public mutating func kind() throws -> Kind {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"): return .literal
        default: throw error("unexpected character '\(Character(Unicode.Scalar(bytes[position])))'")
        }
    }

    private mutating func expect(_ byte: UInt8) throws {
        skipWhitespace()
        guard position < bytes.count else { throw error("unexpected end of input, expected '\(Character(Unicode.Scalar(byte)))'") }
        guard bytes[position] == byte else {
            throw error("expected '\(Character(Unicode.Scalar(byte)))', found '\(Character(Unicode.Scalar(bytes[position])))'")
        }
        position += 1
    }

    /// Calls `body` with each key; `body` must consume the value (read or skip it).
    public mutating func readObject(_ body: (String, inout JSONCursor) throws -> Void) throws {
        try expect(UInt8(ascii: "{"))
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            skipWhitespace()
            guard try kind() == .string else { throw error("expected a string key") }
            let key = try readString()
            try expect(UInt8(ascii: ":"))
            try body(key, &self)
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input in an object") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(UInt8(ascii: "}"))
            return
        }
    }

    /// Calls `body` with each element's index; `body` must consume the element.
    public mutating func readArray(_ body: (Int, inout JSONCursor) throws -> Void) throws {
        try expect(UInt8(ascii: "["))
        skipWhitespace()
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return
        }
        var index = 0
        while true {
            try body(index, &self)
            index += 1
            skipWhitespace()
            guard position < bytes.count else { throw error("unexpected end of input in an array") }
            if bytes[position] == UInt8(ascii: ",") {
                position += 1
                continue
            }
            try expect(UInt8(ascii: "]"))
            return
        }
    }

    public mutating func readString() throws -> String {
        try expect(UInt8(ascii: "\""))
        let start = position
        // Fast path: no escapes.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
                position += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("control character in a string") }
            position += 1
        }
        var scalars = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                return String(decoding: scalars, as: UTF8.self)
            case UInt8(ascii: "\\"):
                guard position < bytes.count else { break }
                let escape = bytes[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): scalars.append(escape)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "u"):
                    var value = try hex4()
                    if (0xD800..<0xDC00).contains(value) {
                        guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u") else {
                            throw error("unpaired surrogate")
                        }
                        position += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let scalar = Unicode.Scalar(value) else { throw error("bad \\u escape") }
                    scalars.append(contentsOf: Array(String(Character(scalar)).utf8))
                default:
                    throw error("bad escape '\\\(Character(Unicode.Scalar(escape)))'", at: position - 2)
                }
            default:
                if byte < 0x20 { throw error("control character in a string") }
                scalars.append(byte)
            }
        }
        throw error("unterminated string")
    }

    private mutating func hex4() throws -> UInt32 {
        guard position + 4 <= bytes.count else { throw error("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = Identifier.hexValue(bytes[position]) else { throw error("bad \\u escape") }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// Skips one value of any kind and returns its text (for messages).
    @discardableResult
    public mutating func skipValue() throws -> String {
        skipWhitespace()
        let start = position
        switch try kind() {
        case .object: try readObject { (_, cursor: inout JSONCursor) throws in try cursor.skipValue() }
        case .array: try readArray { (_, cursor: inout JSONCursor) throws in try cursor.skipValue() }
        case .string: _ = try readString()
        case .number:
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            var digits = 0
            while position < bytes.count,
                (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position])
                    || bytes[position] == UInt8(ascii: ".") || bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E")
                    || bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-")
            {
                position += 1
                digits += 1
            }
            guard digits > 0 else { throw error("bad number") }
        case .literal:
            var matched = false
            for word in ["true", "false", "null"] {
                let utf8 = Array(word.utf8)
                if position + utf8.count <= bytes.count && bytes[position..<(position + utf8.count)].elementsEqual(utf8) {
                    position += utf8.count
                    matched = true
                    break
                }
            }
            guard matched else { throw error("bad literal") }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
        return text.count > 40 ? String(text.prefix(40)) + "..." : text
    }

    /// After the top-level value: only whitespace may follow.
    public mutating func finish() throws {
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected text after the JSON value") }
    }
}
