#if canImport(Glibc)
    import Glibc
#endif

/// What the operating system's own resolver does with a name, for `coderdns doctor`:
/// getaddrinfo(3) (the path every program takes), and on systemd-resolved machines what
/// `resolvectl` says about the links.
enum DoctorSystemResolver {
    enum Lookup {
        /// The IPv6 and IPv4 addresses getaddrinfo returned, as 16- or 4-byte arrays.
        case addresses([[UInt8]])
        case failed(String)
    }

    /// getaddrinfo(name) for any family, as a program would call it.
    static func lookUp(_ name: String) -> Lookup {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0 else {
            let text = gai_strerror(status).map { String(cString: $0) } ?? "error \(status)"
            return .failed(status == EAI_SYSTEM ? "\(text) (\(String(cString: strerror(errno))))" : text)
        }
        defer { freeaddrinfo(list) }
        var found: [[UInt8]] = []
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr {
                if current.pointee.ai_family == AF_INET6 {
                    let bytes = address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin6_addr) { Array($0) }
                    }
                    if !found.contains(bytes) { found.append(bytes) }
                } else if current.pointee.ai_family == AF_INET {
                    let bytes = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        withUnsafeBytes(of: pointer.pointee.sin_addr) { Array($0) }
                    }
                    if !found.contains(bytes) { found.append(bytes) }
                }
            }
            entry = current.pointee.ai_next
        }
        return .addresses(found)
    }

    /// An address as text (inet_ntop).
    static func text(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 16 ? AF_INET6 : AF_INET
        let ok = bytes.withUnsafeBytes { raw in
            buffer.withUnsafeMutableBufferPointer { inet_ntop(family, raw.baseAddress, $0.baseAddress, socklen_t($0.count)) != nil }
        }
        return ok ? String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }

    /// The name servers in /etc/resolv.conf (empty when it cannot be read).
    static func resolvConfNameServers(path: String = "/etc/resolv.conf") -> [String] {
        guard let text = DoctorFile.read(path) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            return fields.count >= 2 && fields[0] == "nameserver" ? String(fields[1]) : nil
        }
    }
}

/// One link (or the global section) of `resolvectl status`.
struct ResolvedLink: Equatable {
    /// "Global", or the interface name.
    var name: String
    var index: Int?
    var dnsServers: [String] = []
    /// As printed: routing-only domains carry a leading `~`.
    var domains: [String] = []
    /// The `Protocols:` line's words, such as `-DefaultRoute` and `DNSSEC=no/unsupported`.
    var protocols: [String] = []

    /// Whether queries for `suffix` are routed to this link (a search or routing-only domain
    /// equal to it or above it).
    func routes(_ suffix: String) -> Bool {
        let wanted = suffix.lowercased().trimmingDots()
        return domains.contains { domain in
            let bare = String(domain.drop(while: { $0 == "~" })).lowercased().trimmingDots()
            return bare.isEmpty || bare == wanted || wanted.hasSuffix("." + bare)
        }
    }

    /// The link's DNSSEC mode (`no`, `yes`, `allow-downgrade`), from `DNSSEC=mode/supported`.
    var dnssecMode: String? {
        guard let word = protocols.first(where: { $0.hasPrefix("DNSSEC=") }) else { return nil }
        return String(word.dropFirst("DNSSEC=".count).split(separator: "/").first ?? "")
    }

    /// `+DefaultRoute`: names no other link claims go here too.
    var isDefaultRoute: Bool { protocols.contains("+DefaultRoute") }

    /// Parses `resolvectl status` (systemd 252 and later): a `Global` section and one
    /// `Link N (name)` section per link; `DNS Servers:` and `DNS Domain:` may continue on
    /// indented lines.
    static func parse(status text: String) -> [ResolvedLink] {
        var links: [ResolvedLink] = []
        var lastKey = ""
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            let line = String(rawLine)
            if line == "Global" {
                links.append(ResolvedLink(name: "Global"))
                continue
            }
            if line.hasPrefix("Link "), let open = line.firstIndex(of: "("), let close = line.lastIndex(of: ")"), open < close {
                let index = Int(line.dropFirst("Link ".count).prefix(while: { $0.isNumber }))
                links.append(ResolvedLink(name: String(line[line.index(after: open)..<close]), index: index))
                continue
            }
            guard !links.isEmpty else { continue }
            let trimmed = line.drop(while: { $0 == " " })
            var key = ""
            var value = Substring(trimmed)
            // "Key: value"; an IPv6 address on a continuation line has colons but never ": ".
            if let separator = trimmed.firstRange(of: ": ")
                ?? (trimmed.hasSuffix(":") ? trimmed.index(before: trimmed.endIndex)..<trimmed.endIndex : nil)
            {
                key = String(trimmed[..<separator.lowerBound])
                value = trimmed[separator.upperBound...]
            } else {
                // systemd prints some keys without the colon ("DNS Servers 127.0.0.1"),
                // and continuation lines have no key at all.
                for candidate in ["DNS Servers", "DNS Domain"] where trimmed.hasPrefix(candidate + " ") {
                    key = candidate
                    value = trimmed.dropFirst(candidate.count)
                }
                if key.isEmpty { key = lastKey }
            }
            let words = value.split(separator: " ").map(String.init)
            switch key {
            case "DNS Servers": links[links.count - 1].dnsServers += words
            case "DNS Domain": links[links.count - 1].domains += words
            case "Protocols": links[links.count - 1].protocols += words
            default: break
            }
            lastKey = key
        }
        return links
    }
}

extension String {
    fileprivate func trimmingDots() -> String {
        var text = Substring(self)
        while text.hasPrefix(".") { text = text.dropFirst() }
        while text.hasSuffix(".") { text = text.dropLast() }
        return String(text)
    }
}

/// Reading small files without Foundation.
enum DoctorFile {
    static func read(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }
}
