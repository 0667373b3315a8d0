import DNSWire

extension ZoneSnapshot {
    /// What diffs applied since a whole build changed, as records: the names of every
    /// workspace name the diffs touched, built from the state as it is now, and the
    /// addresses those names had in the whole build. A snapshot with a layer answers a
    /// covered workspace name from the layer only, and every other name from the whole build
    /// it shares (no copy of it is made).
    ///
    /// Why workspace names: every served name but the sentinel and the apex's empty
    /// non-terminals belongs to one workspace name (``ForwardIndex``), and its records depend
    /// only on the workspaces of that name and their agents. So a diff that touches k
    /// workspaces costs the layer of their names, not a rebuild of every name.
    final class Layer: Sendable {
        /// The covered names' records, built as a snapshot of their workspaces alone.
        let snapshot: ZoneSnapshot
        /// The covered workspace names as wire labels (the changed names that can be labels).
        let covered: NameTable
        /// The whole build's addresses of the covered names, sorted: not served from it.
        let removed: [IPv6Address]

        init(snapshot: ZoneSnapshot, covered: NameTable, removed: [IPv6Address]) {
            self.snapshot = snapshot
            self.covered = covered
            self.removed = removed
        }

        @inline(__always)
        func covers(_ label: UnsafeRawBufferPointer) -> Bool { covered.find(label) != nil }

        func removes(_ address: IPv6Address) -> Bool {
            let index = ZoneSnapshot.firstIndex(notBelow: address, in: removed)
            return index < removed.count && removed[index] == address
        }
    }

    /// The snapshot of `state` built as a layer over `whole` (a whole build), given every
    /// workspace name (as the state holds them: lower-cased) whose workspaces or agents
    /// changed since `whole` was built, under either their old or their new names. It answers
    /// exactly as ``init(state:configuration:serial:)`` of the same state would (the
    /// property the tests check), at a cost that grows with the changed names' agents plus
    /// one pass over the state, not with the zone.
    ///
    /// Nil when a layer cannot answer the same: `whole` is itself layered or has no data, or
    /// some address is shared by two agents (their PTR record would depend on a name the
    /// layer does not cover). The caller then builds whole.
    public static func updating(_ whole: ZoneSnapshot, state: WorkspaceState, changedNames: Set<String>, serial: UInt32) -> ZoneSnapshot? {
        guard whole.isWhole, whole.hasData, !whole.sharesAddresses else { return nil }
        let configuration = whole.configuration

        // The workspaces of the changed names, by their place in the state (which tells
        // same-named workspaces apart, as in a whole build); then their agents.
        var matched = IdentifierMap<MatchedWorkspace>()
        let hashes = NameHashSet(changedNames)
        state.workspaces.values.withUnsafeBufferPointer { workspaces in
            for index in workspaces.indices where hashes.contains(workspaces[index].nameHash) && changedNames.contains(workspaces[index].name) {
                _ = matched.updateValue(MatchedWorkspace(id: workspaces[index].id, position: index))
            }
        }
        var builder = Builder(configuration: configuration, expectedAgents: matched.count)
        if !matched.isEmpty {
            state.agents.values.withUnsafeBufferPointer { agents in
                state.workspaces.values.withUnsafeBufferPointer { workspaces in
                    for agent in agents {
                        guard let found = matched.position(ofKey: agent.workspaceID) else { continue }
                        let position = matched.values[found].position
                        builder.add(
                            agentID: agent.id, agentName: agent.name, workspaceNumber: position, workspaceName: workspaces[position].name)
                    }
                }
            }
        }
        let layered = ZoneSnapshot(building: builder, configuration: configuration, serial: serial)

        // The changed names that can be labels, and what the whole build had under them.
        var covered = NameTable(expectedCount: changedNames.count)
        var removed: [IPv6Address] = []
        var wholeNames = 0
        var wholeWorkspaceNames = 0
        var wholeSkipped = 0
        var key: [UInt8] = []
        for name in changedNames {
            wholeSkipped += whole.skippedByWorkspaceName[name] ?? 0
            guard let label = Self.label(name, into: &key) else { continue }
            _ = label.withUnsafeBytes { covered.insert($0) }
            guard let group = label.withUnsafeBytes({ whole.forward.group($0) }) else {
                continue
            }
            wholeWorkspaceNames += 1
            wholeNames += 2 * Int(group.agentsCount) + (group.shortCount > 0 ? 1 : 0)
            for entry in whole.forward.agents[Int(group.agentsStart)..<Int(group.agentsStart + group.agentsCount)] {
                removed.append(contentsOf: whole.addresses(start: Int(entry.answerStart), count: Int(entry.answerCount)))
            }
        }
        covered.finishInserting()
        removed.sort()

        // An address of the layer that the whole build keeps serving for another name is a
        // shared one: the layer cannot settle whose PTR it is.
        let layer = Layer(snapshot: layered, covered: covered, removed: removed)
        for address in layered.reverseAddresses where address != ServiceAddress.resolver {
            let index = firstIndex(notBelow: address, in: whole.reverseAddresses)
            if index < whole.reverseAddresses.count, whole.reverseAddresses[index] == address, !layer.removes(address) { return nil }
        }
        return ZoneSnapshot(
            base: whole, layer: layer, serial: serial,
            skippedAgents: whole.skippedAgents - wholeSkipped + layered.skippedAgents,
            nameCount: whole.nameCount - wholeNames + layered.nameCount - 1,
            addressCount: whole.addressCount - removed.count + layered.addressCount - 1,
            workspaceNameCount: whole.workspaceNameCount - wholeWorkspaceNames + layered.workspaceNameCount)
    }

    /// A workspace name as a wire label in `buffer`, or nil when it cannot be one (such a
    /// name has no records in any build).
    private static func label(_ name: String, into buffer: inout [UInt8]) -> [UInt8]? {
        let length = name.utf8.count
        guard length > 0, length <= DNSLabel.maximumLength else { return nil }
        buffer.removeAll(keepingCapacity: true)
        buffer.append(UInt8(length))
        for byte in name.utf8 {
            guard DNSLabel.isServable(byte) else { return nil }
            buffer.append(ASCII.lowercase(byte))
        }
        return buffer
    }

    /// The ``Workspace/nameHash`` values of a few names, probed once per workspace of the
    /// state: open addressing in an array a few times their number, so a probe is a multiply
    /// and one or two loads.
    struct NameHashSet {
        private var slots: [UInt64]
        private let shift: UInt64

        init(_ names: Set<String>) {
            var bits: UInt64 = 3
            while 1 << bits < names.count * 4 { bits += 1 }
            slots = Array(repeating: 0, count: 1 << bits)
            shift = 64 - bits
            for name in names {
                let hash = Self.nonzero(Workspace.hash(name))
                var slot = Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> shift)
                while slots[slot] != 0 && slots[slot] != hash { slot = (slot + 1) & (slots.count - 1) }
                slots[slot] = hash
            }
        }

        private static func nonzero(_ hash: UInt64) -> UInt64 { hash == 0 ? 1 : hash }

        @inline(__always)
        func contains(_ hash: UInt64) -> Bool {
            let hash = Self.nonzero(hash)
            var slot = Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> shift)
            while true {
                let value = slots[slot]
                if value == hash { return true }
                if value == 0 { return false }
                slot = (slot + 1) & (slots.count - 1)
            }
        }
    }

    /// A workspace of a changed name, and its place in the state.
    struct MatchedWorkspace: IdentifiedValue {
        var id: Identifier
        var position: Int
    }
}
