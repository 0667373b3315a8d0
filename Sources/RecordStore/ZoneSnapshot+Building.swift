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

        builder.addHost([ZoneConfiguration.sentinelLabels[0], ZoneConfiguration.sentinelLabels[1]], ServiceAddress.resolver)
        builder.addReverse(ServiceAddress.resolver, target: configuration.sentinel.wire)

        // In identifier order, so that which name a shared address's PTR gets never varies.
        for agent in state.agents.values.sorted(by: { $0.id < $1.id }) {
            guard let workspace = state.workspaces[agent.workspaceID] else { continue }
            let address = ServiceAddress.agent(agent.id)
            builder.addHost([agent.name, workspace.name, "me"], address)
            builder.addHost([agent.name, workspace.name, configuration.owner], address)
            if agentCounts[workspace.id] == 1 { builder.addHost([workspace.name], address) }
            if let target = builder.absoluteName([agent.name, workspace.name, configuration.owner]) {
                builder.addReverse(address, target: target)
            }
        }
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
        /// Where an address's AAAA record already is in `answerRecords`.
        var recordOffsets: [IPv6Address: UInt32] = [:]
        /// Entries with more than one address; laid out contiguously at the end.
        var extraAddresses: [Int: [IPv6Address]] = [:]
        var reverse: [(address: IPv6Address, target: [UInt8])] = []
        var key: [UInt8] = []

        init(configuration: ZoneConfiguration, expectedAgents: Int) {
            self.configuration = configuration
            // Per agent: 2-3 host names and up to 4 empty non-terminals, shared between agents.
            names = NameTable(expectedCount: expectedAgents * 5 + 8)
            answerStarts.reserveCapacity(expectedAgents * 5 + 8)
            answerCounts.reserveCapacity(expectedAgents * 5 + 8)
            answerRecords.reserveCapacity((expectedAgents + 1) * ZoneSnapshot.answerRecordLength)
            recordOffsets.reserveCapacity(expectedAgents + 1)
            reverse.reserveCapacity(expectedAgents + 1)
        }

        /// The absolute wire name of `labels` + suffix, or nil when over 255 bytes.
        func absoluteName(_ labels: [String]) -> [UInt8]? {
            var wire: [UInt8] = []
            for label in labels {
                wire.append(UInt8(label.utf8.count))
                wire.append(contentsOf: label.utf8)
            }
            wire.append(contentsOf: configuration.suffix.wire)
            return wire.count <= DomainName.maximumWireLength ? wire : nil
        }

        /// Adds the host `labels` (leftmost first, below the apex) with `address`, and every
        /// name between it and the apex as an empty non-terminal.
        mutating func addHost(_ labels: [String], _ address: IPv6Address) {
            var length = configuration.suffix.wire.count
            for label in labels { length += 1 + label.utf8.count }
            guard length <= DomainName.maximumWireLength else { return }
            for first in 0..<labels.count {
                key.removeAll(keepingCapacity: true)
                for label in labels[first...] {
                    key.append(UInt8(label.utf8.count))
                    for byte in label.utf8 { key.append(ASCII.lowercase(byte)) }
                }
                let (index, inserted) = key.withUnsafeBytes { names.insert($0) }
                if inserted {
                    answerStarts.append(0)
                    answerCounts.append(0)
                }
                if first == 0 { addAddress(address, to: index) }
            }
        }

        private mutating func addAddress(_ address: IPv6Address, to index: Int) {
            if answerCounts[index] == 0 {
                answerStarts[index] = record(for: address)
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

        private func storedAddress(at offset: Int) -> IPv6Address {
            var high: UInt64 = 0
            var low: UInt64 = 0
            for i in 0..<8 { high = high << 8 | UInt64(answerRecords[offset + 12 + i]) }
            for i in 8..<16 { low = low << 8 | UInt64(answerRecords[offset + 12 + i]) }
            return IPv6Address(high: high, low: low)
        }

        /// The offset of `address`'s AAAA record, appending it if new.
        private mutating func record(for address: IPv6Address) -> UInt32 {
            if let offset = recordOffsets[address] { return offset }
            let offset = UInt32(answerRecords.count)
            appendRecord(address)
            recordOffsets[address] = offset
            return offset
        }

        private mutating func appendRecord(_ address: IPv6Address) {
            let ttl = ZoneConfiguration.recordTTL
            answerRecords.append(contentsOf: [
                0xC0, 0x0C,  // NAME: pointer to the question name at offset 12
                0x00, 0x1C,  // TYPE: AAAA
                0x00, 0x01,  // CLASS: IN
                UInt8(ttl >> 24), UInt8((ttl >> 16) & 0xFF), UInt8((ttl >> 8) & 0xFF), UInt8(ttl & 0xFF),
                0x00, 0x10,  // RDLENGTH: 16
            ])
            answerRecords.append(contentsOf: address.bytes)
        }

        mutating func addReverse(_ address: IPv6Address, target: [UInt8]) {
            reverse.append((address, target))
        }

        consuming func finish() -> (
            names: NameTable, answerStarts: [UInt32], answerCounts: [UInt16], answerRecords: [UInt8],
            reverseAddresses: [IPv6Address], reverseTargetStarts: [UInt32], reverseTargetBytes: [UInt8]
        ) {
            for (index, addresses) in extraAddresses.sorted(by: { $0.key < $1.key }) {
                answerStarts[index] = UInt32(answerRecords.count)
                answerCounts[index] = UInt16(min(addresses.count, Int(UInt16.max)))
                for address in addresses { appendRecord(address) }
            }
            // Stable sort keeps the first-added (lowest agent id) target for a shared address.
            var sorted: [(address: IPv6Address, target: [UInt8])] = []
            sorted.reserveCapacity(reverse.count)
            for entry in reverse.enumerated().sorted(by: { ($0.element.address, $0.offset) < ($1.element.address, $1.offset) }) {
                if let last = sorted.last, last.address == entry.element.address { continue }
                sorted.append(entry.element)
            }
            var targetStarts: [UInt32] = []
            var targetBytes: [UInt8] = []
            targetStarts.reserveCapacity(sorted.count)
            for entry in sorted {
                targetStarts.append(UInt32(targetBytes.count))
                targetBytes.append(contentsOf: entry.target)
            }
            return (
                names, answerStarts, answerCounts, answerRecords, sorted.map(\.address), targetStarts, targetBytes
            )
        }
    }
}
