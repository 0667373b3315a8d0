import DNSWire

extension ZoneSnapshot {
    /// Computes every served name from `state` by Coder's rules:
    /// `<agent>.<ws>.me.<suffix>`, `<agent>.<ws>.<owner>.<suffix>`, `<ws>.<suffix>` when the
    /// workspace has exactly one agent, and the sentinel; plus the PTR records of the reverse
    /// zone and the empty non-terminals above every name.
    ///
    /// Agents whose workspace is missing are skipped (the sources reject such state), as are
    /// names that would exceed 255 bytes.
    public convenience init(state: WorkspaceState, configuration: ZoneConfiguration, serial: UInt32) {
        var builder = Builder(configuration: configuration, expectedAgents: state.agents.count)

        var agentCounts: [Identifier: Int] = [:]
        agentCounts.reserveCapacity(state.workspaces.count)
        for agent in state.agents.values { agentCounts[agent.workspaceID, default: 0] += 1 }

        let me = Array("me".utf8)
        let owner = Array(configuration.owner.utf8)
        let sentinel = configuration.sentinel
        builder.addHost(
            [Array(ZoneConfiguration.sentinelLabels[0].utf8), Array(ZoneConfiguration.sentinelLabels[1].utf8)],
            record: builder.appendRecord(ServiceAddress.resolver), address: ServiceAddress.resolver)
        builder.addReverse(ServiceAddress.resolver, agent: Identifier(high: 0, low: 0), target: sentinel.wire)

        // Names are built in one pass over the agents, in whatever order the dictionary has:
        // every choice that must not vary (a shared address's PTR, the order of a name's
        // addresses) is settled by comparing identifiers or addresses, not by arrival.
        var target: [UInt8] = []
        for agent in state.agents.values {
            guard let workspace = state.workspaces[agent.workspaceID] else { continue }
            let agentLabel = Array(agent.name.utf8)
            let workspaceLabel = Array(workspace.name.utf8)
            let address = ServiceAddress.agent(agent.id)
            let record = builder.appendRecord(address)
            builder.addHost([agentLabel, workspaceLabel, me], record: record, address: address)
            builder.addHost([agentLabel, workspaceLabel, owner], record: record, address: address)
            if agentCounts[workspace.id] == 1 { builder.addHost([workspaceLabel], record: record, address: address) }
            target.removeAll(keepingCapacity: true)
            for label in [agentLabel, workspaceLabel, owner] {
                target.append(UInt8(label.count))
                target.append(contentsOf: label)
            }
            target.append(contentsOf: configuration.suffix.wire)
            if target.count <= DomainName.maximumWireLength { builder.addReverse(address, agent: agent.id, target: target) }
        }
        // The empty non-terminals above the host names: once per workspace with agents.
        if !agentCounts.isEmpty {
            builder.addEmpty([me])
            builder.addEmpty([owner])
        }
        for (id, _) in agentCounts {
            guard let workspace = state.workspaces[id] else { continue }
            let workspaceLabel = Array(workspace.name.utf8)
            builder.addEmpty([workspaceLabel, me])
            builder.addEmpty([workspaceLabel, owner])
        }
        builder.addEmpty([Array(ZoneConfiguration.sentinelLabels[1].utf8)])
        self.init(builder: builder, configuration: configuration, serial: serial)
    }

    private convenience init(builder: consuming Builder, configuration: ZoneConfiguration, serial: UInt32) {
        let parts = builder.finish()
        self.init(
            configuration: configuration, hasData: true, serial: serial, names: parts.names,
            answerStarts: parts.answerStarts, answerCounts: parts.answerCounts,
            answerRecords: parts.answerRecords, reverseAddresses: parts.reverseAddresses,
            reverseTargetStarts: parts.reverseTargetStarts, reverseTargetBytes: parts.reverseTargetBytes)
    }

    /// Accumulates names and records; not shared, used once.
    struct Builder: ~Copyable {
        let configuration: ZoneConfiguration
        var names: NameTable
        var answerStarts: [UInt32] = []
        var answerCounts: [UInt16] = []
        var answerRecords: [UInt8] = []
        /// Entries with more than one address; laid out contiguously at the end.
        var extraAddresses: [Int: [IPv6Address]] = [:]
        /// PTR candidates, and their target names end to end in `reverseTargets`.
        var reverse: [ReverseEntry] = []
        var reverseTargets: [UInt8] = []
        var key: [UInt8] = []

        struct ReverseEntry {
            var address: IPv6Address
            var agent: Identifier
            var targetStart: UInt32
            var targetLength: UInt32

            /// Address order; for one address, the lowest agent identifier first.
            static func precedes(_ lhs: ReverseEntry, _ rhs: ReverseEntry) -> Bool {
                if lhs.address.high != rhs.address.high { return lhs.address.high < rhs.address.high }
                if lhs.address.low != rhs.address.low { return lhs.address.low < rhs.address.low }
                if lhs.agent.high != rhs.agent.high { return lhs.agent.high < rhs.agent.high }
                return lhs.agent.low < rhs.agent.low
            }
        }

        init(configuration: ZoneConfiguration, expectedAgents: Int) {
            self.configuration = configuration
            // Per agent: 2-3 host names; per workspace 2 empty non-terminals.
            let expected = expectedAgents * 5 + 8
            names = NameTable(expectedCount: expected)
            answerStarts.reserveCapacity(expected)
            answerCounts.reserveCapacity(expected)
            answerRecords.reserveCapacity((expectedAgents + 1) * ZoneSnapshot.answerRecordLength)
            reverse.reserveCapacity(expectedAgents + 1)
            reverseTargets.reserveCapacity((expectedAgents + 1) * 32)
        }

        /// Inserts the name made of `labels` (leftmost first, below the apex), lower-cased;
        /// nil when it would be over 255 bytes with the suffix.
        private mutating func insert(_ labels: [[UInt8]]) -> (index: Int, inserted: Bool)? {
            key.removeAll(keepingCapacity: true)
            for label in labels {
                key.append(UInt8(label.count))
                for byte in label { key.append(ASCII.lowercase(byte)) }
            }
            guard key.count + configuration.suffix.wire.count <= DomainName.maximumWireLength else { return nil }
            let result = key.withUnsafeBytes { names.insert($0) }
            if result.inserted {
                answerStarts.append(0)
                answerCounts.append(0)
            }
            return result
        }

        /// Adds a host name answering with the AAAA record at `record` (of `address`).
        mutating func addHost(_ labels: [[UInt8]], record: UInt32, address: IPv6Address) {
            guard let (index, _) = insert(labels) else { return }
            if answerCounts[index] == 0 {
                answerStarts[index] = record
                answerCounts[index] = 1
                return
            }
            let first = storedAddress(at: Int(answerStarts[index]))
            var all = extraAddresses[index] ?? [first]
            if !all.contains(address) {
                all.append(address)
                extraAddresses[index] = all
            }
        }

        /// Adds a name with names below it; a host of that name stays a host.
        mutating func addEmpty(_ labels: [[UInt8]]) {
            _ = insert(labels)
        }

        private func storedAddress(at offset: Int) -> IPv6Address {
            answerRecords.withUnsafeBytes { raw in
                IPv6Address(
                    high: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 12, as: UInt64.self)),
                    low: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: offset + 20, as: UInt64.self)))
            }
        }

        /// Appends `address`'s AAAA record and returns its offset.
        mutating func appendRecord(_ address: IPv6Address) -> UInt32 {
            let offset = UInt32(answerRecords.count)
            let ttl = ZoneConfiguration.recordTTL
            answerRecords.append(contentsOf: [
                0xC0, 0x0C,  // NAME: pointer to the question name at offset 12
                0x00, 0x1C,  // TYPE: AAAA
                0x00, 0x01,  // CLASS: IN
                UInt8(ttl >> 24), UInt8((ttl >> 16) & 0xFF), UInt8((ttl >> 8) & 0xFF), UInt8(ttl & 0xFF),
                0x00, 0x10,  // RDLENGTH: 16
            ])
            withUnsafeBytes(of: address.high.bigEndian) { answerRecords.append(contentsOf: $0) }
            withUnsafeBytes(of: address.low.bigEndian) { answerRecords.append(contentsOf: $0) }
            return offset
        }

        mutating func addReverse(_ address: IPv6Address, agent: Identifier, target: [UInt8]) {
            reverse.append(
                ReverseEntry(address: address, agent: agent, targetStart: UInt32(reverseTargets.count), targetLength: UInt32(target.count)))
            reverseTargets.append(contentsOf: target)
        }

        consuming func finish() -> (
            names: NameTable, answerStarts: [UInt32], answerCounts: [UInt16], answerRecords: [UInt8],
            reverseAddresses: [IPv6Address], reverseTargetStarts: [UInt32], reverseTargetBytes: [UInt8]
        ) {
            for (index, var addresses) in extraAddresses {
                addresses.sort()
                answerStarts[index] = UInt32(answerRecords.count)
                answerCounts[index] = UInt16(min(addresses.count, Int(UInt16.max)))
                for address in addresses.prefix(Int(UInt16.max)) { _ = appendRecord(address) }
            }
            reverse.sort(by: ReverseEntry.precedes)
            var addresses: [IPv6Address] = []
            var targetStarts: [UInt32] = []
            var targetBytes: [UInt8] = []
            addresses.reserveCapacity(reverse.count)
            targetStarts.reserveCapacity(reverse.count)
            targetBytes.reserveCapacity(reverseTargets.count)
            for entry in reverse {
                // For a shared address only the lowest agent identifier's name is kept.
                if let last = addresses.last, last == entry.address { continue }
                addresses.append(entry.address)
                targetStarts.append(UInt32(targetBytes.count))
                let start = Int(entry.targetStart)
                targetBytes.append(contentsOf: reverseTargets[start..<(start + Int(entry.targetLength))])
            }
            return (names, answerStarts, answerCounts, answerRecords, addresses, targetStarts, targetBytes)
        }
    }
}
