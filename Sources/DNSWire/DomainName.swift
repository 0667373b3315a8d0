/// A domain name in uncompressed wire form (RFC 1035 section 3.1): length-prefixed labels
/// ending with the zero-length root label. Letter case is kept as given.
///
/// Equality (`==`) compares bytes exactly, so a round trip can show that case survived; use
/// ``isEquivalent(to:)`` for DNS's case-insensitive comparison.
public struct DomainName: Hashable, Sendable, CustomStringConvertible {
    /// RFC 1035 section 2.3.4: 255 bytes in wire form, labels of at most 63 bytes.
    public static let maximumWireLength = 255
    public static let maximumLabelLength = 63

    /// The wire bytes, ending with 0.
    public let wire: [UInt8]

    public static let root = DomainName(uncheckedWire: [0])

    /// Wraps bytes known to be a valid uncompressed name (from ``WireReader`` or this type).
    init(uncheckedWire: [UInt8]) {
        self.wire = uncheckedWire
    }

    /// Validates `wire` as an uncompressed name.
    public init(wire: [UInt8]) throws(WireError) {
        var index = 0
        while true {
            guard index < wire.count else { throw .truncated(needed: 1, available: 0, at: index) }
            let length = Int(wire[index])
            if length == 0 { break }
            guard length <= Self.maximumLabelLength else { throw .labelTooLong(length: length, at: index) }
            index += 1 + length
        }
        guard index + 1 == wire.count else { throw .badNameText("trailing bytes after the root label") }
        guard wire.count <= Self.maximumWireLength else { throw .nameTooLong(at: 0) }
        self.wire = wire
    }

    /// Parses presentation form: labels separated by dots, an optional final dot. `\.` and
    /// `\DDD` escapes are understood. "." and "" are the root.
    public init(_ text: String) throws(WireError) {
        var wire: [UInt8] = []
        var label: [UInt8] = []
        var bytes = Array(text.utf8)[...]
        func finishLabel() throws(WireError) {
            guard !label.isEmpty else { throw .badNameText("empty label in \"\(text)\"") }
            guard label.count <= Self.maximumLabelLength else {
                throw .badNameText("label longer than 63 bytes in \"\(text)\"")
            }
            wire.append(UInt8(label.count))
            wire.append(contentsOf: label)
            label.removeAll()
        }
        if text == "." || text.isEmpty {
            self.wire = [0]
            return
        }
        while let byte = bytes.popFirst() {
            switch byte {
            case UInt8(ascii: "."):
                try finishLabel()
            case UInt8(ascii: "\\"):
                guard let next = bytes.popFirst() else { throw .badNameText("dangling escape in \"\(text)\"") }
                if next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9") {
                    guard bytes.count >= 2 else { throw .badNameText("short \\DDD escape in \"\(text)\"") }
                    let digits = [next, bytes.removeFirst(), bytes.removeFirst()]
                    var value = 0
                    for digit in digits {
                        guard digit >= UInt8(ascii: "0") && digit <= UInt8(ascii: "9") else {
                            throw .badNameText("bad \\DDD escape in \"\(text)\"")
                        }
                        value = value * 10 + Int(digit - UInt8(ascii: "0"))
                    }
                    guard value <= 255 else { throw .badNameText("\\DDD escape over 255 in \"\(text)\"") }
                    label.append(UInt8(value))
                } else {
                    label.append(next)
                }
            default:
                label.append(byte)
            }
        }
        if !label.isEmpty { try finishLabel() }
        wire.append(0)
        guard wire.count <= Self.maximumWireLength else {
            throw .badNameText("name longer than 255 bytes: \"\(text)\"")
        }
        self.wire = wire
    }

    /// The labels, first (leftmost) to last, without the root.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var index = 0
        while wire[index] != 0 {
            let length = Int(wire[index])
            result.append(wire[(index + 1)..<(index + 1 + length)])
            index += 1 + length
        }
        return result
    }

    public var labelCount: Int { labels.count }
    public var isRoot: Bool { wire.count == 1 }

    /// The same name with ASCII letters lower-cased (DNS compares names this way, RFC 4343).
    public func lowercased() -> DomainName {
        DomainName(uncheckedWire: wire.map(ASCII.lowercase))
    }

    /// Case-insensitive equality (RFC 4343).
    public func isEquivalent(to other: DomainName) -> Bool {
        wire.count == other.wire.count && zip(wire, other.wire).allSatisfy { ASCII.lowercase($0) == ASCII.lowercase($1) }
    }

    /// Whether this name is `other` or below it, compared case-insensitively.
    public func isSubdomain(of other: DomainName) -> Bool {
        guard other.wire.count <= wire.count else { return false }
        // Walk labels so that "xcoder." is not taken to be below "coder.".
        var index = 0
        while index < wire.count {
            if wire.count - index == other.wire.count {
                return zip(wire[index...], other.wire).allSatisfy { ASCII.lowercase($0) == ASCII.lowercase($1) }
            }
            if wire[index] == 0 { return false }
            index += 1 + Int(wire[index])
        }
        return false
    }

    /// `label` + `.` + this name.
    public func prepending(_ label: String) throws(WireError) -> DomainName {
        let bytes = Array(label.utf8)
        guard !bytes.isEmpty, bytes.count <= Self.maximumLabelLength else {
            throw .badNameText("bad label \"\(label)\"")
        }
        let result = [UInt8(bytes.count)] + bytes + wire
        guard result.count <= Self.maximumWireLength else { throw .badNameText("name longer than 255 bytes") }
        return DomainName(uncheckedWire: result)
    }

    /// Presentation form with a final dot; bytes outside printable ASCII, dots and backslashes
    /// are escaped.
    public var description: String {
        if isRoot { return "." }
        var text = ""
        for label in labels {
            for byte in label {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"):
                    text.append("\\")
                    text.append(Character(Unicode.Scalar(byte)))
                case 0x21...0x7E:
                    text.append(Character(Unicode.Scalar(byte)))
                default:
                    let digits = String(byte)
                    text.append("\\" + String(repeating: "0", count: 3 - digits.count) + digits)
                }
            }
            text.append(".")
        }
        return text
    }
}

/// ASCII-only case folding, as DNS does it (RFC 4343): bytes over 0x7F are never folded.
public enum ASCII {
    @inline(__always)
    public static func lowercase(_ byte: UInt8) -> UInt8 {
        byte &- 0x41 < 26 ? byte | 0x20 : byte
    }
}
