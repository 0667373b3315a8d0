import DNSWire

/// The records served at one moment: immutable, fully built and indexed before it is
/// published, and shared by every thread that answers queries.
///
/// Names are kept relative to their zone's apex and lower-cased. Each host name's AAAA
/// records are precomputed in wire form (owner = a pointer to the question name at offset 12)
/// so an answer is a copy of bytes.
public final class ZoneSnapshot: Sendable {
    public let configuration: ZoneConfiguration
    /// False until any workspace data is known: in-zone queries then get SERVFAIL, never a
    /// negative answer that a cache would keep.
    public let hasData: Bool
    /// The SOA serial: grows with every snapshot built by one process.
    public let serial: UInt32
    /// The forward apex in lower-cased wire form.
    public let forwardApex: [UInt8]
    public let reverseApex: [UInt8]
    /// The configuration's SOA MNAME / NS target (the sentinel) and SOA RNAME, computed once:
    /// ``ZoneConfiguration`` builds them on every access, and negative answers need them.
    public let nameServer: DomainName
    public let mailbox: DomainName

    /// The forward zone, indexed by workspace name rather than by every name: the names
    /// are `<agent>.<ws>.me`, `<agent>.<ws>.<owner>`, `<ws>` and the names above them, so one
    /// entry per distinct workspace name (with its agents listed beside it) answers them all.
    /// Five times fewer keys than one per name: a 100,000-workspace snapshot builds in a
    /// fraction of the time and memory, and a lookup is still one hash probe.
    let forward: ForwardIndex
    /// AAAA resource records, `answerRecordLength` bytes each.
    public let answerRecords: [UInt8]

    /// Reverse zone: addresses in order, and for each the name its PTR record points to.
    let reverseAddresses: [IPv6Address]
    let reverseTargets: [PointerTarget]
    /// The sentinel in wire form: the resolver address's PTR target.
    let sentinelName: [UInt8]

    /// Owner pointer (2) + TYPE (2) + CLASS (2) + TTL (4) + RDLENGTH (2) + address (16).
    public static let answerRecordLength = 28

    /// Agents of the state whose names are not served: a workspace or agent name that is not
    /// a servable label (``DNSLabel``), or a name that would be over 255 bytes. Every other
    /// name still is.
    public let skippedAgents: Int

    /// Host names served (the sentinel included); empty non-terminals are not counted.
    public var nameCount: Int { forward.hostNameCount }
    public var addressCount: Int { reverseAddresses.count }
    /// Agent addresses served (the resolver's own address, the sentinel's, not counted).
    public var agentAddressCount: Int { reverseTargets.lazy.filter { $0 != .sentinel }.count }
    /// Distinct workspace names with a served name.
    public var workspaceNameCount: Int { forward.groups.count }

    init(
        configuration: ZoneConfiguration, hasData: Bool, serial: UInt32, forward: ForwardIndex, answerRecords: [UInt8],
        reverseAddresses: [IPv6Address], reverseTargets: [PointerTarget], skippedAgents: Int = 0
    ) {
        self.configuration = configuration
        self.skippedAgents = skippedAgents
        self.hasData = hasData
        self.serial = serial
        self.forwardApex = configuration.suffix.wire
        self.reverseApex = ZoneConfiguration.reverseApex.wire
        self.nameServer = configuration.nameServer
        self.mailbox = configuration.mailbox
        self.forward = forward
        self.answerRecords = answerRecords
        self.reverseAddresses = reverseAddresses
        self.reverseTargets = reverseTargets
        self.sentinelName = configuration.sentinel.wire
    }

    /// A snapshot with no data: every in-zone query gets SERVFAIL.
    public static func empty(configuration: ZoneConfiguration) -> ZoneSnapshot {
        ZoneSnapshot(
            configuration: configuration, hasData: false, serial: 0, forward: ForwardIndex(owner: configuration.owner),
            answerRecords: [], reverseAddresses: [], reverseTargets: [])
    }

    /// What a forward name is.
    public enum ForwardResult: Equatable, Sendable {
        /// The zone's apex: SOA and NS live here.
        case apex
        /// A host: `count` AAAA records starting at byte `start` of ``answerRecords``.
        case host(start: Int, count: Int)
        /// No records, but names below it (RFC 8020: NODATA, not NXDOMAIN).
        case emptyNonTerminal
        case absent
    }

    /// Looks up a forward name given as its labels below the apex, lower-cased, in wire form
    /// without the final zero (empty for the apex).
    public func lookupForward(relativeName key: UnsafeRawBufferPointer) -> ForwardResult {
        if key.isEmpty { return .apex }
        return forward.lookup(key)
    }

    /// The name a PTR record points to: `<agent>.<ws>.<owner>.<suffix>`, or the sentinel.
    /// Composed from the forward index's labels when answering, so no second copy of every
    /// name is kept: see ``forEachPart(of:_:)``.
    public struct PointerTarget: Equatable, Sendable {
        /// Where the agent's label is in the forward index's agent labels.
        let agentLabelStart: UInt32
        let agentLabelLength: UInt32
        /// Where the workspace's name is in the forward index's table; `UInt32.max` for the
        /// sentinel.
        let workspaceRecord: UInt32

        static let sentinel = PointerTarget(agentLabelStart: 0, agentLabelLength: 0, workspaceRecord: .max)
    }

    public enum ReverseResult: Equatable, Sendable {
        case apex
        case pointer(PointerTarget)
        case emptyNonTerminal
        case absent
    }

    /// Looks up a name in the reverse zone given as its labels below the apex (nibbles, least
    /// significant first, as in `3.5.0.0...`), in wire form without the final zero. Letter
    /// case does not matter.
    public func lookupReverse(relativeName key: UnsafeRawBufferPointer) -> ReverseResult {
        if key.isEmpty { return .apex }
        // Each label is one hex digit; they come least significant first.
        let available = 32 - ServiceAddress.prefixLength / 4  // 20 nibbles below a /48
        guard key.count % 2 == 0 else { return .absent }
        let depth = key.count / 2
        guard depth <= available else { return .absent }
        var lowHigh = ServiceAddress.prefixHigh
        var lowLow: UInt64 = 0
        var upHigh = ServiceAddress.prefixHigh | 0xFFFF
        var upLow = UInt64.max
        for label in 0..<depth {
            guard key[2 * label] == 1, let value = Identifier.hexValue(key[2 * label + 1]) else { return .absent }
            let position = 12 + depth - 1 - label  // nibble index, most significant = 0
            if position < 16 {
                let shift = UInt64(4 * (15 - position))
                lowHigh = lowHigh & ~(0xF << shift) | UInt64(value) << shift
                upHigh = upHigh & ~(0xF << shift) | UInt64(value) << shift
            } else {
                let shift = UInt64(4 * (31 - position))
                lowLow = lowLow & ~(0xF << shift) | UInt64(value) << shift
                upLow = upLow & ~(0xF << shift) | UInt64(value) << shift
            }
        }
        let lowerBound = IPv6Address(high: lowHigh, low: lowLow)
        let upperBound = IPv6Address(high: upHigh, low: upLow)
        // The first address not below lowerBound.
        var low = 0
        var high = reverseAddresses.count
        while low < high {
            let middle = (low + high) / 2
            if reverseAddresses[middle] < lowerBound { low = middle + 1 } else { high = middle }
        }
        guard low < reverseAddresses.count, reverseAddresses[low] <= upperBound else { return .absent }
        if depth < available { return .emptyNonTerminal }
        return .pointer(reverseTargets[low])
    }

    /// Calls `body` with the parts of `target`'s name, in order: end to end they are the
    /// name in wire form, uncompressed and lower-cased.
    public func forEachPart(of target: PointerTarget, _ body: (UnsafeRawBufferPointer) -> Void) {
        if target.workspaceRecord == PointerTarget.sentinel.workspaceRecord {
            sentinelName.withUnsafeBytes(body)
            return
        }
        withUnsafeBytes(of: UInt8(truncatingIfNeeded: target.agentLabelLength)) { body($0) }
        forward.agentLabels.withUnsafeBytes { labels in
            let start = Int(target.agentLabelStart)
            body(UnsafeRawBufferPointer(rebasing: labels[start..<(start + Int(target.agentLabelLength))]))
        }
        forward.workspaces.withKey(atRecord: Int(target.workspaceRecord), body)
        forward.ownerLabel.withUnsafeBytes(body)
        forwardApex.withUnsafeBytes(body)
    }

    /// The length of `target`'s name in wire form.
    public func length(of target: PointerTarget) -> Int {
        var length = 0
        forEachPart(of: target) { length += $0.count }
        return length
    }

    /// `target`'s name in wire form.
    public func name(of target: PointerTarget) -> [UInt8] {
        var name: [UInt8] = []
        forEachPart(of: target) { name.append(contentsOf: $0) }
        return name
    }
}
