/// The names a snapshot serves, for people (`coderdns check`, `coderdns names`): read from
/// the same index the responder answers from, so the list cannot disagree with the answers.
extension ZoneSnapshot {
    public struct HostName: Equatable, Sendable {
        /// Fully qualified, lower-cased, with the final dot.
        public var name: String
        /// Its AAAA records, in answer order.
        public var addresses: [IPv6Address]
    }

    /// Every host name with its addresses: the sentinel, then per workspace name (in the
    /// order the snapshot holds them) `<ws>` when it is a host, and each agent's
    /// `<agent>.<ws>.me` and `<agent>.<ws>.<owner>`.
    public func hostNames() -> [HostName] {
        var names: [HostName] = []
        guard hasData else { return names }
        names.append(
            HostName(name: configuration.sentinel.description, addresses: addresses(start: Int(forward.sentinelStart), count: 1)))
        appendHostNames(to: &names) { label in layer?.covers(label) ?? false }
        layer?.snapshot.appendHostNames(to: &names) { _ in false }
        return names
    }

    /// Appends the names of this snapshot's own index, but for workspace names `isHidden`.
    private func appendHostNames(to names: inout [HostName], isHidden: (UnsafeRawBufferPointer) -> Bool) {
        let suffix = configuration.suffix.description
        for group in forward.groups {
            if forward.workspaces.withKey(atRecord: Int(group.nameRecord), isHidden) { continue }
            let workspace = forward.workspaces.withKey(atRecord: Int(group.nameRecord)) { key in
                String(decoding: key.dropFirst(), as: UTF8.self)
            }
            if group.shortCount > 0 {
                names.append(
                    HostName(name: "\(workspace).\(suffix)", addresses: addresses(start: Int(group.shortStart), count: Int(group.shortCount))))
            }
            for entry in forward.agents[Int(group.agentsStart)..<Int(group.agentsStart + group.agentsCount)] {
                let agent = String(decoding: forward.agentLabels[Int(entry.labelStart)..<Int(entry.labelStart + entry.labelLength)], as: UTF8.self)
                let records = addresses(start: Int(entry.answerStart), count: Int(entry.answerCount))
                names.append(HostName(name: "\(agent).\(workspace).me.\(suffix)", addresses: records))
                names.append(HostName(name: "\(agent).\(workspace).\(configuration.owner).\(suffix)", addresses: records))
            }
        }
    }

    /// `count` AAAA records from byte `start` of this snapshot's own ``answerRecords``: the
    /// address is each record's last 16 bytes.
    func addresses(start: Int, count: Int) -> [IPv6Address] {
        (0..<count).map { index in
            let offset = start + index * Self.answerRecordLength + Self.answerRecordLength - 16
            var high: UInt64 = 0
            var low: UInt64 = 0
            for byte in answerRecords[offset..<(offset + 8)] { high = high << 8 | UInt64(byte) }
            for byte in answerRecords[(offset + 8)..<(offset + 16)] { low = low << 8 | UInt64(byte) }
            return IPv6Address(high: high, low: low)
        }
    }
}
