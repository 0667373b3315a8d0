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
    /// AAAA resource records, `answerRecordLength` bytes each: those of the whole build (a
    /// layer keeps its own: ``withAnswerRecords(start:count:_:)`` reads either).
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
    /// ``skippedAgents`` by workspace name (as the state holds it): what a layer built on this
    /// snapshot subtracts for the names it covers. Empty in the usual case; only whole builds
    /// keep it.
    let skippedByWorkspaceName: [String: Int]
    /// Whether two agents (or an agent and the resolver) share an address. Then a PTR record
    /// depends on agents of other workspace names, and no layer is built on this snapshot.
    let sharesAddresses: Bool
    /// Whether any agent is served: `me` and `<owner>` are then empty non-terminals.
    let hasAgents: Bool
    /// What the diffs since this snapshot's whole build changed; nil for a whole build.
    let layer: Layer?

    /// Host names served (the sentinel included); empty non-terminals are not counted.
    public let nameCount: Int
    /// Addresses with a PTR record (the resolver's included).
    public let addressCount: Int
    /// Agent addresses served (the resolver's own address, the sentinel's, not counted).
    public var agentAddressCount: Int { max(0, addressCount - 1) }
    /// Distinct workspace names with a served name.
    public let workspaceNameCount: Int
    /// Whether this snapshot was built whole, not as a layer over one.
    public var isWhole: Bool { layer == nil }

    /// A snapshot built whole.
    init(
        configuration: ZoneConfiguration, hasData: Bool, serial: UInt32, forward: ForwardIndex, answerRecords: [UInt8],
        reverseAddresses: [IPv6Address], reverseTargets: [PointerTarget], skippedAgents: Int = 0,
        skippedByWorkspaceName: [String: Int] = [:], sharesAddresses: Bool = false
    ) {
        self.configuration = configuration
        self.skippedAgents = skippedAgents
        self.skippedByWorkspaceName = skippedByWorkspaceName
        self.sharesAddresses = sharesAddresses
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
        self.hasAgents = forward.hasAgents
        self.layer = nil
        self.nameCount = forward.hostNameCount
        self.addressCount = reverseAddresses.count
        self.workspaceNameCount = forward.groups.count
    }

    /// `base`'s records with `layer` over them (``updating(_:state:changedNames:serial:)``).
    init(
        base: ZoneSnapshot, layer: Layer, serial: UInt32, skippedAgents: Int, nameCount: Int, addressCount: Int,
        workspaceNameCount: Int
    ) {
        configuration = base.configuration
        hasData = true
        self.serial = serial
        forwardApex = base.forwardApex
        reverseApex = base.reverseApex
        nameServer = base.nameServer
        mailbox = base.mailbox
        forward = base.forward
        answerRecords = base.answerRecords
        reverseAddresses = base.reverseAddresses
        reverseTargets = base.reverseTargets
        sentinelName = base.sentinelName
        self.skippedAgents = skippedAgents
        skippedByWorkspaceName = [:]
        sharesAddresses = base.sharesAddresses
        self.layer = layer
        self.nameCount = nameCount
        self.addressCount = addressCount
        self.workspaceNameCount = workspaceNameCount
        hasAgents = addressCount > 1
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
        /// A host with one AAAA record, for this address (``withAnswerRecord(for:_:)``): the
        /// usual name, of a workspace with one agent, answered from the index alone.
        case hostAddress(IPv6Address)
        /// No records, but names below it (RFC 8020: NODATA, not NXDOMAIN).
        case emptyNonTerminal
        case absent
    }

    /// Looks up a forward name given as its labels below the apex, lower-cased, in wire form
    /// without the final zero (empty for the apex).
    public func lookupForward(relativeName key: UnsafeRawBufferPointer) -> ForwardResult {
        if key.isEmpty { return .apex }
        if let layer, let label = ForwardIndex.workspaceLabel(of: key), layer.covers(label) {
            switch layer.snapshot.forward.lookup(key, hasAgents: hasAgents) {
            case .host(let start, let count): return .host(start: answerRecords.count + start, count: count)
            case let other: return other
            }
        }
        return forward.lookup(key, hasAgents: hasAgents)
    }

    /// Calls `body` with the `count` AAAA records that ``lookupForward(relativeName:)`` found
    /// at `start`, end to end in wire form.
    @inline(__always)
    public func withAnswerRecords<R>(start: Int, count: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        let length = count * Self.answerRecordLength
        if start >= answerRecords.count, let layer {
            let offset = start - answerRecords.count
            return layer.snapshot.answerRecords.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + length)])) }
        }
        return answerRecords.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[start..<(start + length)])) }
    }

    /// Calls `body` with the AAAA records of a host (``ForwardResult/host(start:count:)`` or
    /// ``ForwardResult/hostAddress(_:)``), end to end in wire form, and their count; nil for
    /// any other result.
    @inline(__always)
    public func withAnswerRecords<R>(of result: ForwardResult, _ body: (UnsafeRawBufferPointer, Int) -> R) -> R? {
        switch result {
        case .host(let start, let count): withAnswerRecords(start: start, count: count) { body($0, count) }
        case .hostAddress(let address): Self.withAnswerRecord(for: address) { body($0, 1) }
        case .apex, .emptyNonTerminal, .absent: nil
        }
    }

    /// Calls `body` with the AAAA record of `address` in wire form, as ``answerRecords`` holds
    /// them (``answerRecordLength`` bytes, owner = a pointer to the question name).
    @inline(__always)
    public static func withAnswerRecord<R>(for address: IPv6Address, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        // NAME: a pointer to the question name at offset 12; TYPE AAAA (28); CLASS IN; TTL;
        // RDLENGTH 16; the address. Seven 32-bit words: a tuple of them has no padding.
        let ttl = ZoneConfiguration.recordTTL
        let record = (
            UInt32(0xC00C_001C).bigEndian, (0x0001_0000 | ttl >> 16).bigEndian, (ttl << 16 | 16).bigEndian,
            UInt32(truncatingIfNeeded: address.high >> 32).bigEndian, UInt32(truncatingIfNeeded: address.high).bigEndian,
            UInt32(truncatingIfNeeded: address.low >> 32).bigEndian, UInt32(truncatingIfNeeded: address.low).bigEndian
        )
        return withUnsafeBytes(of: record) { body($0) }
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

        /// Set in ``agentLabelLength`` (a label is at most 63 bytes) of a target from a
        /// snapshot's ``Layer``: its labels are in the layer's index.
        static let layerFlag: UInt32 = 1 << 31

        var isInLayer: Bool { agentLabelLength & Self.layerFlag != 0 }

        /// This target as a layer's, for the snapshot the layer is part of.
        var inLayer: PointerTarget {
            PointerTarget(agentLabelStart: agentLabelStart, agentLabelLength: agentLabelLength | Self.layerFlag, workspaceRecord: workspaceRecord)
        }

        /// A layer's target as its own snapshot knows it.
        var outOfLayer: PointerTarget {
            PointerTarget(agentLabelStart: agentLabelStart, agentLabelLength: agentLabelLength & ~Self.layerFlag, workspaceRecord: workspaceRecord)
        }
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
        var found = Self.firstIndex(notBelow: lowerBound, in: reverseAddresses)
        guard let layer else {
            guard found < reverseAddresses.count, reverseAddresses[found] <= upperBound else { return .absent }
            if depth < available { return .emptyNonTerminal }
            return .pointer(reverseTargets[found])
        }
        // The layer's addresses, and the whole build's less those the layer removed.
        let layered = layer.snapshot.reverseAddresses
        let inLayer = Self.firstIndex(notBelow: lowerBound, in: layered)
        if inLayer < layered.count, layered[inLayer] <= upperBound {
            if depth < available { return .emptyNonTerminal }
            return .pointer(layer.snapshot.reverseTargets[inLayer].inLayer)
        }
        while found < reverseAddresses.count, reverseAddresses[found] <= upperBound, layer.removes(reverseAddresses[found]) { found += 1 }
        guard found < reverseAddresses.count, reverseAddresses[found] <= upperBound else { return .absent }
        if depth < available { return .emptyNonTerminal }
        return .pointer(reverseTargets[found])
    }

    /// The first index of `addresses` (sorted) whose address is not below `bound`.
    static func firstIndex(notBelow bound: IPv6Address, in addresses: [IPv6Address]) -> Int {
        var low = 0
        var high = addresses.count
        while low < high {
            let middle = (low + high) / 2
            if addresses[middle] < bound { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Calls `body` with the parts of `target`'s name, in order: end to end they are the
    /// name in wire form, uncompressed and lower-cased.
    public func forEachPart(of target: PointerTarget, _ body: (UnsafeRawBufferPointer) -> Void) {
        if target.isInLayer, let layer {
            layer.snapshot.forEachPart(of: target.outOfLayer, body)
            return
        }
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
