/// The rule for names that become DNS labels (workspace, agent and owner names).
public enum DNSLabel {
    /// Why `text` is not a usable host-name label (RFC 1123 LDH: letters, digits and inner
    /// hyphens, 1 to 63 bytes), or nil when it is.
    public static func problem(with text: String) -> String? {
        let bytes = text.utf8
        if bytes.isEmpty { return "is empty" }
        if bytes.count > 63 { return "is longer than 63 bytes" }
        for byte in bytes {
            let isLetter = (byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z")
            let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
            if !(isLetter || isDigit || byte == UInt8(ascii: "-")) {
                return "has a character other than letters, digits and '-'"
            }
        }
        if bytes.first == UInt8(ascii: "-") || bytes.last == UInt8(ascii: "-") {
            return "starts or ends with '-'"
        }
        return nil
    }

    /// `text` with ASCII letters lower-cased; the same string, unallocated, when it has no
    /// capitals (the usual case: Coder's names are lower-case already).
    public static func lowercased(_ text: String) -> String {
        text.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) ? text.lowercased() : text
    }
}
