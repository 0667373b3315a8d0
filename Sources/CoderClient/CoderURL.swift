/// A deployment's address as `coder login` stores it: `https://coder.example.com`, with an
/// optional port and path prefix (a deployment behind a reverse proxy at `/coder`).
public struct CoderURL: Sendable, Equatable, CustomStringConvertible {
    public var isSecure: Bool
    /// The host as written, without brackets for an IPv6 literal.
    public var host: String
    public var port: Int
    /// The path before `/api/v2/...`, without a trailing slash ("" for none).
    public var pathPrefix: String

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "deployment URL \"\(text)\" \(reason)" }
    }

    public init(_ text: String) throws(ParseError) {
        let trimmed = text.trimmingWhitespace
        var rest: Substring
        if trimmed.lowercased().hasPrefix("https://") {
            isSecure = true
            rest = trimmed.dropFirst(8)
        } else if trimmed.lowercased().hasPrefix("http://") {
            isSecure = false
            rest = trimmed.dropFirst(7)
        } else {
            throw ParseError(text: text, reason: "must start with https:// or http://")
        }
        if let query = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) { rest = rest[..<query] }
        let authority: Substring
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            var path = String(rest[slash...])
            while path.hasSuffix("/") { path.removeLast() }
            pathPrefix = path
        } else {
            authority = rest
            pathPrefix = ""
        }
        guard !authority.contains("@") else { throw ParseError(text: text, reason: "must not carry a user name or password") }
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw ParseError(text: text, reason: "has an unclosed '['") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                portText = after.dropFirst()
            } else if !after.isEmpty {
                throw ParseError(text: text, reason: "has something after the IPv6 address")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            portText = authority[authority.index(after: colon)...]
        } else {
            host = String(authority)
        }
        guard !host.isEmpty else { throw ParseError(text: text, reason: "has no host") }
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw ParseError(text: text, reason: "has a port that is not a number from 1 to 65535")
            }
            port = value
        } else {
            port = isSecure ? 443 : 80
        }
    }

    /// Whether the host is an IP address literal (no SNI, the certificate must name the address).
    public var hostIsAddress: Bool {
        host.contains(":") || host.split(separator: ".").count == 4 && host.allSatisfy { $0 == "." || $0.isNumber }
    }

    /// The `Host` header's value.
    public var authority: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (isSecure ? 443 : 80) ? name : "\(name):\(port)"
    }

    /// `host:port`, for messages about the connection.
    public var place: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String { "\(isSecure ? "https" : "http")://\(authority)\(pathPrefix)" }
}

extension StringProtocol {
    /// Without leading and trailing spaces, tabs and line ends (as the Coder CLI's `File.Read`).
    var trimmingWhitespace: String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
