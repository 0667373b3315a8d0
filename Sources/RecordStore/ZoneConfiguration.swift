import DNSWire

/// What the zones look like apart from the workspace data: the suffix, the owner's name, and
/// the fixed record values (TTLs, SOA timers).
public struct ZoneConfiguration: Sendable, Equatable {
    /// The forward zone's apex, lower-cased (`coder.` unless configured).
    public let suffix: DomainName
    /// The local user's name, lower-cased: the `<owner>` of `<agent>.<ws>.<owner>.<suffix>`.
    public let owner: String

    /// Every record's TTL: Coder's clients use the sentinel as a liveness signal.
    public static let recordTTL: UInt32 = 2
    /// The SOA record's TTL and MINIMUM: negative answers are cached for this long (RFC 2308).
    public static let negativeTTL: UInt32 = 2
    /// SOA timers. Nothing transfers these zones, so they only need to be plausible.
    public static let refresh: UInt32 = 3600
    public static let retry: UInt32 = 600
    public static let expire: UInt32 = 86400

    /// `b.2.4.a.a.7.2.6.0.6.d.f.ip6.arpa.`: the reverse zone of `fd60:627a:a42b::/48`.
    public static let reverseApex = try! DomainName("b.2.4.a.a.7.2.6.0.6.d.f.ip6.arpa.")
    /// The sentinel's first two labels; the suffix follows.
    public static let sentinelLabels = ["is", "coder--connect--enabled--right--now"]

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case badSuffix(String, reason: String)
        case badOwner(String, reason: String)

        public var description: String {
            switch self {
            case .badSuffix(let text, let reason): "suffix \"\(text)\": \(reason)"
            case .badOwner(let text, let reason): "owner \"\(text)\" \(reason)"
            }
        }
    }

    /// - Parameters:
    ///   - suffix: one or more labels, with or without a final dot (`coder`, `coder.example`).
    ///   - owner: a single label.
    public init(suffix: String = "coder", owner: String) throws(Problem) {
        var text = suffix
        if text.hasSuffix(".") { text.removeLast() }
        guard !text.isEmpty else { throw .badSuffix(suffix, reason: "the root cannot be the suffix") }
        for label in text.split(separator: ".", omittingEmptySubsequences: false) {
            if let reason = DNSLabel.problem(with: String(label)) {
                throw .badSuffix(suffix, reason: "label \"\(label)\" \(reason)")
            }
        }
        guard let name = try? DomainName(text.lowercased()) else {
            throw .badSuffix(suffix, reason: "not a domain name")
        }
        // The longest name served is <agent>.<ws>.<owner>.<suffix>: four 63-byte labels
        // would not fit in 255 bytes with a long suffix. The snapshot builder leaves out the
        // names that do not fit (``reasonUnserved(agentName:workspaceName:)``): whether a
        // name fits depends on this configuration, not on the state.
        if let reason = DNSLabel.problem(with: owner) { throw .badOwner(owner, reason: reason) }
        self.suffix = name
        self.owner = owner.lowercased()
    }

    /// Why the names of an agent called `agentName` in a workspace called `workspaceName`
    /// (both lower-cased) are not served, or nil when they are: the snapshot builder's rule
    /// (``ZoneSnapshot/init(state:configuration:serial:)``), spelled out for reports.
    public func reasonUnserved(agentName: String, workspaceName: String) -> String? {
        if let reason = DNSLabel.problem(with: workspaceName) { return "the workspace name \"\(workspaceName)\" \(reason)" }
        if let reason = DNSLabel.problem(with: agentName) { return "the agent name \"\(agentName)\" \(reason)" }
        if longestNameLength(agentLength: agentName.utf8.count, workspaceLength: workspaceName.utf8.count) > DomainName.maximumWireLength {
            return "\(agentName).\(workspaceName).\(owner.utf8.count < 2 ? "me" : owner).\(suffix) is longer than 255 bytes"
        }
        return nil
    }

    /// The wire length of the longer of `<agent>.<ws>.<owner>.<suffix>` and
    /// `<agent>.<ws>.me.<suffix>` for labels of these lengths: both are served or neither.
    @inline(__always)
    func longestNameLength(agentLength: Int, workspaceLength: Int) -> Int {
        3 + agentLength + workspaceLength + max(owner.utf8.count, 2) + suffix.wire.count
    }

    /// `is.coder--connect--enabled--right--now.<suffix>`
    public var sentinel: DomainName {
        try! suffix.prepending(Self.sentinelLabels[1]).prepending(Self.sentinelLabels[0])
    }

    /// The primary name server in the SOA and the target of the apex NS record: the sentinel,
    /// which is always in the zone and resolves to the resolver's own address.
    public var nameServer: DomainName { sentinel }

    /// RNAME: `hostmaster.<suffix>`.
    public var mailbox: DomainName { try! suffix.prepending("hostmaster") }
}
