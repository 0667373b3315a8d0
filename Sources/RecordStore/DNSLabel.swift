/// The rule for names that become DNS labels (workspace, agent and owner names, and the
/// suffix's labels).
///
/// A servable label is 1 to 63 bytes of ASCII letters, digits, `-` and `_`, in any order:
/// Coder accepts underscores (`main_agent-1.main-workspace.admin.coder` resolves in Coder
/// Connect) and leading digits (`9lives`), and a leading or trailing `-` or `_` is as easy to
/// ask for and to match as any other byte, so nothing Coder can send in that alphabet is
/// refused. Letters are lower-cased. Anything else (empty, over 63 bytes, a dot, a space,
/// non-ASCII, a control byte) cannot be served: the snapshot builder leaves its names out,
/// and the state keeps it (a later rename can make it servable).
public enum DNSLabel {
    /// The longest label (RFC 1035 section 2.3.4).
    public static let maximumLength = 63

    /// Whether `byte` may appear in a servable label: an ASCII letter, digit, `-` or `_`.
    @inline(__always)
    public static func isServable(_ byte: UInt8) -> Bool {
        (byte | 0x20) &- 0x61 < 26 || byte &- 0x30 < 10 || byte == 0x2D || byte == 0x5F
    }

    /// Why `text` cannot be served as a label, or nil when it can.
    public static func problem(with text: String) -> String? {
        let bytes = text.utf8
        if bytes.isEmpty { return "is empty" }
        if bytes.count > maximumLength { return "is longer than 63 bytes" }
        if bytes.contains(UInt8(ascii: ".")) { return "has a '.' in it" }
        if !bytes.allSatisfy(isServable) { return "has a character other than ASCII letters, digits, '-' and '_'" }
        return nil
    }

    /// `text` with ASCII letters lower-cased; the same string, unallocated, when it has no
    /// capitals (the usual case: Coder's names are lower-case already).
    public static func lowercased(_ text: String) -> String {
        text.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) ? text.lowercased() : text
    }
}
