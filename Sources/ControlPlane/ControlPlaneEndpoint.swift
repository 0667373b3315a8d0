import EventIO

/// Where the control plane's update stream is: `[v6-address]:port`, `v4-address:port` or
/// `unix:/path`.
///
/// The address must be numeric: a host name is refused when the flag is read, with one line
/// that says so. Resolving it would mean a resolver on the dial path of the program that may
/// itself be the resolver, and a name that stops resolving would only show as redials. (A Coder
/// deployment is followed by its URL, with `--coder`, which does resolve its host.)
public enum ControlPlaneEndpoint: Equatable, Sendable, CustomStringConvertible {
    case inet(host: String, port: UInt16, isV6: Bool)
    case unix(path: String)

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "bad control-plane endpoint \"\(text)\": \(reason)" }
    }

    public init(_ text: String) throws(ParseError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { throw ParseError(text: text, reason: "empty socket path") }
            // sockaddr_un.sun_path holds 108 bytes including the final zero.
            guard path.utf8.count < 108 else { throw ParseError(text: text, reason: "socket path longer than 107 bytes") }
            self = .unix(path: path)
            return
        }
        let host: Substring
        let portText: Substring
        let isV6: Bool
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw ParseError(text: text, reason: "missing ']'") }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { throw ParseError(text: text, reason: "expected ':port' after ']'") }
            portText = rest.dropFirst()
            isV6 = true
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else {
                throw ParseError(text: text, reason: "expected [v6-address]:port, v4-address:port or unix:/path")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            isV6 = false
        }
        guard !host.isEmpty else { throw ParseError(text: text, reason: "empty address") }
        guard let port = UInt16(portText), port != 0 else {
            throw ParseError(text: text, reason: "port \"\(portText)\" is not a number from 1 to 65535")
        }
        let endpoint = ControlPlaneEndpoint.inet(host: String(host), port: port, isV6: isV6)
        guard endpoint.socketAddress != nil else {
            throw ParseError(
                text: text,
                reason:
                    "\"\(host)\" is not an IPv\(isV6 ? "6" : "4") address (host names are not resolved; to follow a Coder deployment, use --coder-url)"
            )
        }
        self = endpoint
    }

    /// The address to connect to, for `.inet` (always one for an endpoint that was parsed).
    public var socketAddress: SocketAddress? {
        guard case .inet = self else { return nil }
        return try? SocketAddress(description)
    }

    public var description: String {
        switch self {
        case .inet(let host, let port, let isV6): isV6 ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path): "unix:\(path)"
        }
    }
}
