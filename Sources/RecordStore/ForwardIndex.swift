/// The forward zone's names, indexed by workspace name.
///
/// Every served name has one of a few shapes below the apex (all lower-cased):
///
/// | labels | name | is |
/// |---|---|---|
/// | 1 | `<ws>` | a host when some workspace of that name has exactly one agent |
/// | 1 | `me`, `<owner>` | empty non-terminals when any agent exists |
/// | 1 | `coder--connect--enabled--right--now` | the sentinel's parent |
/// | 2 | `is.coder--connect--enabled--right--now` | the sentinel |
/// | 2 | `<ws>.me`, `<ws>.<owner>` | empty non-terminals when the workspace has agents |
/// | 3 | `<agent>.<ws>.me`, `<agent>.<ws>.<owner>` | hosts |
///
/// So the table is keyed by workspace name (one entry per distinct name, however many
/// workspaces share it), and each entry lists its agents by name. A lookup parses at most
/// three labels, probes the table once and, for a host, scans the few agents of one
/// workspace name.
///
/// The usual workspace name (one workspace, one agent) is answered from its table record
/// alone: the record carries that agent's label and address (``singleAgentFlag``), so a lookup
/// reads two places in memory (slot, record) instead of six (slot, record, group, agent
/// entry, agent label, answer record). At 100,000 workspaces those reads are cache and TLB
/// misses, and they were the largest part of the server's own time per query.
struct ForwardIndex: Sendable {
    /// A distinct workspace name.
    struct Group: Sendable {
        /// The AAAA records of `<ws>`: from the single-agent workspaces of this name.
        var shortStart: UInt32 = 0
        var shortCount: UInt32 = 0
        /// This name's agents: entries `agentsStart ..< agentsStart + agentsCount`.
        var agentsStart: UInt32 = 0
        var agentsCount: UInt32 = 0
        /// Where this name's record is in ``ForwardIndex/workspaces``: PTR targets are
        /// composed from it (``NameTable/withKey(atRecord:_:)``).
        var nameRecord: UInt32 = 0
    }

    /// An agent name within a group, with its AAAA records (several only when workspaces
    /// sharing a name have agents sharing a name).
    struct AgentEntry: Sendable {
        var labelStart: UInt32
        var labelLength: UInt32
        var answerStart: UInt32
        var answerCount: UInt32
    }

    /// Workspace name (a wire label: length byte, then the bytes) -> group index. Each
    /// record's payload is the first agent added under the name: its label's length (with
    /// ``singleAgentFlag`` while that agent is the name's only one), the label, and its address
    /// (16 bytes, network order).
    var workspaces: NameTable
    var groups: [Group] = []
    var agents: [AgentEntry] = []
    /// Agent names end to end.
    var agentLabels: [UInt8] = []
    /// The owner's name as a wire label.
    let ownerLabel: [UInt8]
    /// Whether any agent is indexed here.
    var hasAgents = false
    /// The sentinel's AAAA record.
    var sentinelStart: UInt32 = 0
    var hostNameCount = 0

    /// Set in the first payload byte of a name with one workspace of one agent: the payload
    /// is then the whole answer for all three of its host names. (A label's length needs only
    /// six bits.)
    static let singleAgentFlag: UInt8 = 0x80

    static let meLabel: [UInt8] = [2] + Array("me".utf8)
    static let sentinelFirst: [UInt8] = [2] + Array("is".utf8)
    static let sentinelParent: [UInt8] = [UInt8(ZoneConfiguration.sentinelLabels[1].utf8.count)] + Array(ZoneConfiguration.sentinelLabels[1].utf8)

    init(owner: String, expectedWorkspaces: Int = 0) {
        ownerLabel = [UInt8(owner.utf8.count)] + Array(owner.lowercased().utf8)
        workspaces = NameTable(expectedCount: expectedWorkspaces)
        // Reserved rather than doubled: a doubling past 65,536 names would leave 600 kB idle.
        groups.reserveCapacity(expectedWorkspaces)
    }

    /// Where the workspace name's label is in `key` (the labels below the apex in wire form,
    /// not empty): the first of one or two labels, the second of three; nil for more. Which
    /// entry of the table a lookup of `key` reads, if any: a snapshot built from a diff
    /// (``ZoneSnapshot/Layer``) answers the names it covers from its own index.
    static func workspaceLabel(of key: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer? {
        let first = 1 + Int(key[0])
        guard first < key.count else { return UnsafeRawBufferPointer(rebasing: key[0..<first]) }
        let second = first + 1 + Int(key[first])
        guard second < key.count else { return UnsafeRawBufferPointer(rebasing: key[0..<first]) }
        let third = second + 1 + Int(key[second])
        guard third == key.count else { return nil }
        return UnsafeRawBufferPointer(rebasing: key[first..<second])
    }

    /// `key`: the labels below the apex in wire form, lower-cased, not empty. `hasAgents`:
    /// whether the zone serves any agent (`me` and `<owner>` are then empty non-terminals),
    /// which for a layered snapshot is not this index's own ``hasAgents``.
    func lookup(_ key: UnsafeRawBufferPointer, hasAgents: Bool) -> ZoneSnapshot.ForwardResult {
        // Where the (up to three) labels start; a fourth means no such name.
        var starts = (0, 0, 0)
        var count = 0
        var index = 0
        while index < key.count {
            switch count {
            case 0: starts.0 = index
            case 1: starts.1 = index
            case 2: starts.2 = index
            default: return .absent
            }
            count += 1
            index += 1 + Int(key[index])
        }
        func label(_ start: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: key[start..<(start + 1 + Int(key[start]))])
        }
        func isOwnerLike(_ start: Int) -> Bool {
            let text = label(start)
            return Self.equal(text, Self.meLabel) || Self.equal(text, ownerLabel)
        }
        switch count {
        case 1:
            // nil: not a served workspace name, or no `<ws>` host under it.
            let found =
                workspaces.withEntry(label(starts.0)) { value, payload -> ZoneSnapshot.ForwardResult? in
                    if Self.isSingleAgent(payload) { return .hostAddress(Self.payloadAddress(payload)) }
                    let group = groups[Int(value)]
                    return group.shortCount > 0 ? .host(start: Int(group.shortStart), count: Int(group.shortCount)) : nil
                } ?? nil
            if let found { return found }
            if hasAgents && isOwnerLike(starts.0) { return .emptyNonTerminal }
            if Self.equal(label(starts.0), Self.sentinelParent) { return .emptyNonTerminal }
            return .absent
        case 2:
            if Self.equal(label(starts.0), Self.sentinelFirst) && Self.equal(label(starts.1), Self.sentinelParent) {
                return .host(start: Int(sentinelStart), count: 1)
            }
            guard isOwnerLike(starts.1) else { return .absent }
            let withAgents = workspaces.withEntry(label(starts.0)) { value, payload in
                Self.isSingleAgent(payload) || groups[Int(value)].agentsCount > 0
            }
            return withAgents == true ? .emptyNonTerminal : .absent
        default:
            guard isOwnerLike(starts.2) else { return .absent }
            let agent = label(starts.0)
            let found = workspaces.withEntry(label(starts.1)) { value, payload -> ZoneSnapshot.ForwardResult in
                if Self.isSingleAgent(payload) {
                    let length = Self.payloadLabelLength(payload)
                    guard agent.count == 1 + length,
                        Self.equal(UnsafeRawBufferPointer(rebasing: agent[1...]), UnsafeRawBufferPointer(start: payload + 1, count: length))
                    else { return .absent }
                    return .hostAddress(Self.payloadAddress(payload))
                }
                return agentHost(agent, in: groups[Int(value)])
            }
            return found ?? .absent
        }
    }

    @inline(__always)
    static func isSingleAgent(_ payload: UnsafeRawPointer) -> Bool { payload.load(as: UInt8.self) & singleAgentFlag != 0 }

    @inline(__always)
    static func payloadLabelLength(_ payload: UnsafeRawPointer) -> Int { Int(payload.load(as: UInt8.self) & ~singleAgentFlag) }

    /// The address in a record's payload (after the agent's label).
    @inline(__always)
    static func payloadAddress(_ payload: UnsafeRawPointer) -> IPv6Address {
        let at = 1 + payloadLabelLength(payload)
        return IPv6Address(
            high: UInt64(bigEndian: payload.loadUnaligned(fromByteOffset: at, as: UInt64.self)),
            low: UInt64(bigEndian: payload.loadUnaligned(fromByteOffset: at + 8, as: UInt64.self)))
    }

    /// The payload of a workspace name's record, made with its first agent: `agentLabel`
    /// (lower-cased, without its length byte) and `address`, as ``payloadAddress(_:)`` reads
    /// them, flagged as the name's only agent until another is added (``clearSingleAgent(_:)``).
    static func payload(agentLabel: ArraySlice<UInt8>, address: IPv6Address, into buffer: inout [UInt8]) {
        buffer.removeAll(keepingCapacity: true)
        buffer.append(UInt8(agentLabel.count) | singleAgentFlag)
        buffer.append(contentsOf: agentLabel)
        withUnsafeBytes(of: (address.high.bigEndian, address.low.bigEndian)) { buffer.append(contentsOf: $0) }
    }

    /// Marks a payload's agent as no longer its name's only one.
    static func clearSingleAgent(_ payload: UnsafeMutableRawPointer) {
        payload.storeBytes(of: payload.load(as: UInt8.self) & ~singleAgentFlag, as: UInt8.self)
    }

    /// The host `<agent>` of `group`'s workspaces (`agent` a wire label), or absent.
    private func agentHost(_ agent: UnsafeRawBufferPointer, in group: Group) -> ZoneSnapshot.ForwardResult {
        // Stored agent names have no length byte.
        let name = UnsafeRawBufferPointer(rebasing: agent.dropFirst())
        return agentLabels.withUnsafeBytes { labels in
            for entry in agents[Int(group.agentsStart)..<Int(group.agentsStart + group.agentsCount)] {
                let stored = UnsafeRawBufferPointer(rebasing: labels[Int(entry.labelStart)..<Int(entry.labelStart + entry.labelLength)])
                if Self.equal(name, stored) {
                    return .host(start: Int(entry.answerStart), count: Int(entry.answerCount))
                }
            }
            return .absent
        }
    }

    /// The group of workspace name `label` (a wire label), if the name is served.
    func group(_ label: UnsafeRawBufferPointer) -> Group? {
        guard let value = workspaces.find(label) else { return nil }
        return groups[Int(value)]
    }

    @inline(__always)
    static func equal(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for i in 0..<lhs.count where lhs[i] != rhs[i] { return false }
        return true
    }

    @inline(__always)
    static func equal(_ lhs: UnsafeRawBufferPointer, _ rhs: [UInt8]) -> Bool {
        rhs.withUnsafeBytes { equal(lhs, $0) }
    }
}
