import DNSWire

extension ZoneSnapshot {
    /// Computes every served name from `state` by Coder's rules:
    /// `<agent>.<ws>.me.<suffix>`, `<agent>.<ws>.<owner>.<suffix>`, `<ws>.<suffix>` when the
    /// workspace has exactly one agent, and the sentinel; plus the PTR records of the reverse
    /// zone. The empty non-terminals above the names follow from the index (``ForwardIndex``).
    ///
    /// An agent's names are left out, and counted in ``skippedAgents``, when its name or its
    /// workspace's is not a servable label (``DNSLabel``) or its longest name would exceed
    /// 255 bytes (which depends on the configuration: hence here, not where state is
    /// loaded). Such an agent is as if absent: no PTR, and it does not count as one of its
    /// workspace's agents for `<ws>`. Agents whose workspace is missing are skipped too (the
    /// sources never keep such state). Nothing depends on the order in which the
    /// dictionaries yield their entries: ties (agents of one workspace sharing a name, a PTR
    /// for an address two agents share, the order of a name's addresses) are settled by
    /// comparing identifiers and addresses.
    public convenience init(state: WorkspaceState, configuration: ZoneConfiguration, serial: UInt32) {
        var builder = Builder(configuration: configuration, expectedAgents: state.agents.count)
        state.agents.values.withUnsafeBufferPointer { agents in
            state.workspaces.values.withUnsafeBufferPointer { workspaces in
                // Agents usually come in the order of their workspaces (files, caches and
                // Coder's messages list them so): try the last workspace and the next one
                // before a hash probe, which at this size is a cache miss.
                var last = -1
                for agent in agents {
                    let position: Int
                    if last >= 0 && workspaces[last].id == agent.workspaceID {
                        position = last
                    } else if last + 1 < workspaces.count && workspaces[last + 1].id == agent.workspaceID {
                        position = last + 1
                    } else if let found = state.workspaces.position(ofKey: agent.workspaceID) {
                        position = found
                    } else {
                        continue
                    }
                    last = position
                    builder.add(agentID: agent.id, agentName: agent.name, workspaceNumber: position, workspaceName: workspaces[position].name)
                }
            }
        }
        self.init(building: builder, configuration: configuration, serial: serial)
    }

    /// The snapshot of everything added to `builder`.
    convenience init(building builder: consuming Builder, configuration: ZoneConfiguration, serial: UInt32) {
        let parts = builder.finish()
        self.init(
            configuration: configuration, hasData: true, serial: serial, forward: parts.forward, answerRecords: parts.answerRecords,
            reverseAddresses: parts.reverseAddresses, reverseTargets: parts.reverseTargets, skippedAgents: parts.skippedAgents,
            skippedByWorkspaceName: parts.skippedByWorkspaceName, sharesAddresses: parts.sharesAddresses)
    }

    /// Accumulates names and records; not shared, used once.
    struct Builder {
        let configuration: ZoneConfiguration
        var forward: ForwardIndex
        var answerRecords: [UInt8] = []
        /// One per agent, in arrival order; grouped by workspace name in `finish()`.
        var pending: [Pending] = []
        /// Agent names (lower-cased) end to end, referenced by `pending`.
        var labels: [UInt8] = []
        var key: [UInt8] = []
        var payload: [UInt8] = []
        /// Agents left out by ``add(agentID:agentName:workspaceNumber:workspaceName:)``.
        var skippedAgents = 0
        /// The same, by workspace name.
        var skippedByWorkspaceName: [String: Int] = [:]
        /// Whether two agents, or an agent and the resolver, share an address.
        var sharesAddresses = false

        /// 32 bytes per agent: its address follows from its identifier.
        struct Pending {
            var group: UInt32
            var labelStart: UInt32
            var labelLength: UInt32
            /// Which workspace (numbered by the caller): several of one name are told apart.
            var workspace: UInt32
            var agentID: Identifier

            var address: IPv6Address { ServiceAddress.agent(agentID) }
        }

        /// What the reverse zone is sorted by: an address and its pending entry (or
        /// ``sentinelEntry``), in 16 bytes. Every address served is in the service /48 (agents
        /// and the resolver alike), so the top 48 bits need not be kept: `rest` holds the
        /// address's bits 48-63 above the entry number.
        struct ReverseKey {
            var low: UInt64
            var rest: UInt64

            init(address: IPv6Address, entry: Int) {
                low = address.low
                rest = (address.high & 0xFFFF) << 32 | UInt64(UInt32(truncatingIfNeeded: entry))
            }

            var address: IPv6Address { IPv6Address(high: ServiceAddress.prefixHigh | rest >> 32, low: low) }
            var entry: Int { Int(Int32(truncatingIfNeeded: rest & 0xFFFF_FFFF)) }
        }
        static let sentinelEntry = -1

        init(configuration: ZoneConfiguration, expectedAgents: Int) {
            self.configuration = configuration
            forward = ForwardIndex(owner: configuration.owner, expectedWorkspaces: expectedAgents + 1)
            answerRecords.reserveCapacity((expectedAgents + 1) * ZoneSnapshot.answerRecordLength)
            pending.reserveCapacity(expectedAgents)
            labels.reserveCapacity(expectedAgents * 6)
            forward.sentinelStart = appendRecord(ServiceAddress.resolver)
            forward.hostNameCount = 1
        }

        /// Adds an agent of the workspace the caller numbers `workspaceNumber` (names are
        /// lower-cased here), or counts it in ``skippedAgents`` when its names cannot be
        /// served (``ZoneConfiguration/reasonUnserved(agentName:workspaceName:)`` says why).
        /// The labels are checked in the loops that copy them: no work is added per byte.
        mutating func add(agentID: Identifier, agentName: String, workspaceNumber: Int, workspaceName: String) {
            let agentLength = agentName.utf8.count
            let workspaceLength = workspaceName.utf8.count
            guard agentLength > 0, agentLength <= DNSLabel.maximumLength, workspaceLength > 0, workspaceLength <= DNSLabel.maximumLength,
                configuration.longestNameLength(agentLength: agentLength, workspaceLength: workspaceLength) <= DomainName.maximumWireLength
            else {
                skip(workspaceName)
                return
            }

            let labelStart = labels.count
            for byte in agentName.utf8 {
                guard DNSLabel.isServable(byte) else {
                    labels.removeSubrange(labelStart...)
                    skip(workspaceName)
                    return
                }
                labels.append(ASCII.lowercase(byte))
            }
            key.removeAll(keepingCapacity: true)
            key.append(UInt8(workspaceLength))
            for byte in workspaceName.utf8 {
                guard DNSLabel.isServable(byte) else {
                    labels.removeSubrange(labelStart...)
                    skip(workspaceName)
                    return
                }
                key.append(ASCII.lowercase(byte))
            }
            // The first agent of a name rides in its record: the whole answer while it is the
            // name's only one (``ForwardIndex/singleAgentFlag``), cleared when another comes.
            // Set here, not in `finish()`, where the table may be shared and a write would copy it.
            ForwardIndex.payload(agentLabel: labels[labelStart...], address: ServiceAddress.agent(agentID), into: &payload)
            let (group, inserted) = key.withUnsafeBytes { key in payload.withUnsafeBytes { forward.workspaces.insert(key, payload: $0) } }
            if inserted {
                forward.groups.append(ForwardIndex.Group(nameRecord: forward.workspaces.recordStart(ofEntry: group)))
            } else {
                forward.workspaces.updatePayload(atRecord: Int(forward.groups[group].nameRecord), ForwardIndex.clearSingleAgent)
            }
            pending.append(
                Pending(
                    group: UInt32(group), labelStart: UInt32(labelStart), labelLength: UInt32(agentLength),
                    workspace: UInt32(truncatingIfNeeded: workspaceNumber), agentID: agentID))
        }

        /// Counts an agent of `workspaceName` whose names cannot be served.
        mutating func skip(_ workspaceName: String) {
            skippedAgents += 1
            skippedByWorkspaceName[workspaceName, default: 0] += 1
        }

        /// Appends `address`'s AAAA record and returns its offset.
        mutating func appendRecord(_ address: IPv6Address) -> UInt32 {
            let offset = UInt32(answerRecords.count)
            ZoneSnapshot.withAnswerRecord(for: address) { answerRecords.append(contentsOf: $0) }
            return offset
        }

        /// Appends the records of `addresses` (sorted, without repeats) contiguously.
        mutating func appendRecords(_ addresses: [IPv6Address]) -> (start: UInt32, count: UInt32) {
            let unique = Array(Set(addresses)).sorted()
            let start = UInt32(answerRecords.count)
            for address in unique { _ = appendRecord(address) }
            return (start, UInt32(unique.count))
        }

        private func sameLabel(_ a: Pending, _ b: Pending) -> Bool {
            a.labelLength == b.labelLength
                && labels[Int(a.labelStart)..<Int(a.labelStart + a.labelLength)]
                    .elementsEqual(labels[Int(b.labelStart)..<Int(b.labelStart + b.labelLength)])
        }

        /// Sorts `keys` by address: a least-significant-digit radix sort over the five 16-bit
        /// digits below the /48 prefix, skipping any digit every key shares, so a
        /// 100,000-agent zone takes at most five linear passes instead of a comparison sort's
        /// seventeen. Stable.
        static func sortByAddress(_ keys: inout [ReverseKey]) {
            guard keys.count > 1 else { return }
            var scratch = keys
            var counts = [UInt32](repeating: 0, count: 1 << 16)
            for digit in 0..<5 {
                // Digits 0-3 are in `low`, least significant first; digit 4 is bits 48-63.
                func value(_ key: ReverseKey) -> Int {
                    digit < 4
                        ? Int(truncatingIfNeeded: (key.low >> UInt64(16 * digit)) & 0xFFFF) : Int(truncatingIfNeeded: key.rest >> 32)
                }
                for index in counts.indices { counts[index] = 0 }
                for key in keys { counts[value(key)] += 1 }
                if counts[value(keys[0])] == keys.count { continue }  // one value: nothing moves
                var total: UInt32 = 0
                for index in counts.indices {
                    let count = counts[index]
                    counts[index] = total
                    total += count
                }
                keys.withUnsafeBufferPointer { source in
                    scratch.withUnsafeMutableBufferPointer { target in
                        for key in source {
                            let bucket = value(key)
                            target[Int(counts[bucket])] = key
                            counts[bucket] += 1
                        }
                    }
                }
                swap(&keys, &scratch)
            }
        }

        consuming func finish() -> (
            forward: ForwardIndex, answerRecords: [UInt8], reverseAddresses: [IPv6Address], reverseTargets: [ZoneSnapshot.PointerTarget],
            skippedAgents: Int, skippedByWorkspaceName: [String: Int], sharesAddresses: Bool
        ) {
            forward.workspaces.finishInserting()
            finishForward()
            let reverse = finishReverse()
            // Only now, with the sorting arrays gone: copying the table's records to their
            // exact size briefly holds them twice.
            forward.workspaces.compact()
            return (forward, answerRecords, reverse.addresses, reverse.targets, skippedAgents, skippedByWorkspaceName, sharesAddresses)
        }

        /// The forward index's groups and agent entries. Its own function, so that its
        /// sorting arrays are freed before the reverse zone's are made (peak memory).
        mutating func finishForward() {
            // Group the agents by workspace name: a counting sort on the group index.
            // 32-bit and in place (filled from the back, each group's end becomes its start):
            // these arrays are part of a load's peak memory.
            let groupCount = forward.groups.count
            var starts = [UInt32](repeating: 0, count: groupCount)
            for entry in pending { starts[Int(entry.group)] += 1 }
            var total: UInt32 = 0
            for group in 0..<groupCount {
                total += starts[group]
                starts[group] = total
            }
            var order = [UInt32](repeating: 0, count: pending.count)
            for index in pending.indices.reversed() {
                let group = Int(pending[index].group)
                starts[group] -= 1
                order[Int(starts[group])] = UInt32(index)
            }

            forward.agents.reserveCapacity(pending.count)
            forward.hasAgents = !pending.isEmpty
            for group in 0..<groupCount {
                let begin = Int(starts[group])
                let end = group + 1 < groupCount ? Int(starts[group + 1]) : order.count
                var entry = forward.groups[group]
                entry.agentsStart = UInt32(forward.agents.count)
                if end - begin == 1 {
                    // The usual case: one workspace of this name, with one agent.
                    let agent = pending[Int(order[begin])]
                    let record = appendRecord(agent.address)
                    forward.agents.append(
                        ForwardIndex.AgentEntry(labelStart: agent.labelStart, labelLength: agent.labelLength, answerStart: record, answerCount: 1))
                    entry.shortStart = record
                    entry.shortCount = 1
                    forward.hostNameCount += 3
                } else {
                    // Several agents (or several workspaces of one name): agents of one name
                    // share an entry with all their addresses; `<ws>` answers for every
                    // single-agent workspace of this name.
                    let members = order[begin..<end].map { Int($0) }
                    var done = Set<Int>()
                    for member in members where !done.contains(member) {
                        let agent = pending[member]
                        let alike = members.filter { !done.contains($0) && sameLabel(pending[$0], agent) }
                        done.formUnion(alike)
                        let span = appendRecords(alike.map { pending[$0].address })
                        forward.agents.append(
                            ForwardIndex.AgentEntry(
                                labelStart: agent.labelStart, labelLength: agent.labelLength, answerStart: span.start, answerCount: span.count))
                        forward.hostNameCount += 2
                    }
                    var perWorkspace: [UInt32: Int] = [:]
                    func workspace(_ member: Int) -> UInt32 { pending[member].workspace }
                    for member in members { perWorkspace[workspace(member), default: 0] += 1 }
                    let singles = members.filter { perWorkspace[workspace($0)] == 1 }.map { pending[$0].address }
                    if !singles.isEmpty {
                        let span = appendRecords(singles)
                        entry.shortStart = span.start
                        entry.shortCount = span.count
                        forward.hostNameCount += 1
                    }
                }
                entry.agentsCount = UInt32(forward.agents.count) - entry.agentsStart
                forward.groups[group] = entry
            }
            forward.agentLabels = labels
            labels = []
        }

        /// The reverse zone: addresses in order and their PTR targets.
        mutating func finishReverse() -> (addresses: [IPv6Address], targets: [ZoneSnapshot.PointerTarget]) {
            // Address order; for one address only the lowest agent identifier's name is kept.
            var keys: [ReverseKey] = []
            keys.reserveCapacity(pending.count + 1)
            keys.append(ReverseKey(address: ServiceAddress.resolver, entry: Self.sentinelEntry))
            for (index, entry) in pending.enumerated() { keys.append(ReverseKey(address: entry.address, entry: index)) }
            pending.withUnsafeBufferPointer { pending in
                do {
                    func agentID(_ entry: Int) -> Identifier {
                        entry == Self.sentinelEntry ? Identifier(high: 0, low: 0) : pending[entry].agentID
                    }
                    Self.sortByAddress(&keys)
                    // Equal addresses (two agents whose UUIDs agree in bytes 6..15) are rare:
                    // order each such run by agent identifier.
                    var start = 0
                    while start < keys.count {
                        var end = start + 1
                        while end < keys.count && keys[end].address == keys[start].address { end += 1 }
                        if end - start > 1 {
                            keys[start..<end].sort { agentID($0.entry) < agentID($1.entry) }
                            sharesAddresses = true
                        }
                        start = end
                    }
                }
            }
            // The targets first, while the pending entries are there; then the entries go
            // (the largest array of the build) before the addresses are made.
            var targets: [ZoneSnapshot.PointerTarget] = []
            targets.reserveCapacity(keys.count)
            var previous: IPv6Address?
            for key in keys {
                let address = key.address
                if address == previous { continue }
                previous = address
                if key.entry == Self.sentinelEntry {
                    targets.append(.sentinel)
                } else {
                    // <agent>.<ws>.<owner>.<suffix>, composed from these labels when asked.
                    let entry = pending[key.entry]
                    targets.append(
                        ZoneSnapshot.PointerTarget(
                            agentLabelStart: entry.labelStart, agentLabelLength: entry.labelLength,
                            workspaceRecord: forward.groups[Int(entry.group)].nameRecord))
                }
            }
            pending = []
            var addresses: [IPv6Address] = []
            addresses.reserveCapacity(targets.count)
            for key in keys where key.address != addresses.last { addresses.append(key.address) }
            return (addresses, targets)
        }
    }
}
