import ControlPlane
import RecordStore
import TestSupport
import Testing

/// A diff is published as a layer over the last whole build (``ZoneSnapshot/updating``): these
/// tests hold it to answering every question exactly as a whole build of the same state does,
/// over random diffs that rename, move, add and delete workspaces and agents, share names,
/// use names that cannot be served and names too long for the configuration.
@Suite("Diffs published as layers answer as whole builds do")
struct LayeredSnapshotTests {
    static let plain = try! ZoneConfiguration(suffix: "coder", owner: "alice")
    /// Long enough that a 63-byte agent name in a 63-byte workspace name is over 255 bytes.
    static let long = try! ZoneConfiguration(
        suffix: String(repeating: "s", count: 60) + ".coder", owner: String(repeating: "o", count: 40))

    static let workspaceNames = [
        "dev", "main", "Dev", "x-y", "a_b", "me", "alice", "is", "bad name", "dot.ted", String(repeating: "w", count: 63),
        String(repeating: "v", count: 64), "0", "ws-1", "ws-2",
    ]
    static let agentNames = ["main", "gpu", "Main", "a", "bad name", String(repeating: "g", count: 63), "", "x-y"]

    /// One seeded run: `steps` random diffs on a random state, each compared with a whole build.
    static func run(seed: UInt64, configuration: ZoneConfiguration, steps: Int, sharedAddresses: Bool) -> (layered: Int, whole: Int) {
        var random = SeededGenerator(seed: seed)
        var workspaceIDs: [Identifier] = (0..<24).map { _ in Identifier(high: random.next(), low: random.next()) }
        var agentIDs: [Identifier] = (0..<48).map { _ in Identifier(high: random.next(), low: random.next()) }
        if sharedAddresses {
            // Two agents whose addresses agree (bytes 6-15 of the identifier): no layer may be
            // built while both are served.
            agentIDs[1] = Identifier(high: agentIDs[0].high ^ 0xFFFF_0000_0000_0000, low: agentIDs[0].low)
        }
        workspaceIDs.sort()
        func field(_ id: Identifier) -> IdentifierField { IdentifierField(id) }
        func randomDiff(first: Bool) -> WorkspaceUpdate {
            var update = WorkspaceUpdate()
            let operations = first ? 40 : random.int(in: 1...4)
            for _ in 0..<operations {
                switch random.below(first ? 2 : 5) {
                case 0:
                    update.upsertedWorkspaces.append(
                        .init(
                            id: field(workspaceIDs[random.below(workspaceIDs.count)]),
                            name: workspaceNames[random.below(workspaceNames.count)], status: .running))
                case 1:
                    update.upsertedAgents.append(
                        .init(
                            id: field(agentIDs[random.below(agentIDs.count)]), name: agentNames[random.below(agentNames.count)],
                            workspaceID: field(workspaceIDs[random.below(workspaceIDs.count)])))
                case 2:
                    update.deletedAgents.append(
                        .init(id: field(agentIDs[random.below(agentIDs.count)]), name: "", workspaceID: field(workspaceIDs[0])))
                case 3:
                    update.deletedWorkspaces.append(.init(id: field(workspaceIDs[random.below(workspaceIDs.count)]), name: "", status: .running))
                default:
                    // A move: an agent to another workspace.
                    update.upsertedAgents.append(
                        .init(
                            id: field(agentIDs[random.below(agentIDs.count)]), name: "main",
                            workspaceID: field(workspaceIDs[random.below(workspaceIDs.count)])))
                }
            }
            return update
        }

        var state = WorkspaceState()
        var changed: Set<String>? = []
        var first = randomDiff(first: true)
        if sharedAddresses {
            first.upsertedWorkspaces.append(.init(id: field(workspaceIDs[0]), name: "dev", status: .running))
            first.upsertedAgents.append(.init(id: field(agentIDs[0]), name: "main", workspaceID: field(workspaceIDs[0])))
            first.upsertedAgents.append(.init(id: field(agentIDs[1]), name: "gpu", workspaceID: field(workspaceIDs[0])))
        }
        _ = state.apply(first, changedNames: &changed)
        var serial: UInt32 = 1
        var whole = ZoneSnapshot(state: state, configuration: configuration, serial: serial)
        var changedSinceWhole = Set<String>()
        var counts = (layered: 0, whole: 0)
        for step in 0..<steps {
            var names: Set<String>? = []
            _ = state.apply(randomDiff(first: false), changedNames: &names)
            guard let names else {
                Issue.record("a diff on a non-empty state reported everything changed")
                return counts
            }
            changedSinceWhole.formUnion(names)
            serial += 1
            let reference = ZoneSnapshot(state: state, configuration: configuration, serial: serial)
            if let layered = ZoneSnapshot.updating(whole, state: state, changedNames: changedSinceWhole, serial: serial) {
                counts.layered += 1
                expectSameAnswers(layered, reference, seed: seed, step: step)
            } else {
                counts.whole += 1
                whole = reference
                changedSinceWhole = []
            }
            if step % 16 == 15 {
                whole = reference
                changedSinceWhole = []
            }
        }
        return counts
    }

    /// The labels of a relative name as a lookup key (lower-cased wire labels); nil when one
    /// cannot be a label.
    static func key(_ labels: [String]) -> [UInt8]? {
        var key: [UInt8] = []
        for label in labels {
            let bytes = Array(label.lowercased().utf8)
            guard !bytes.isEmpty, bytes.count <= 63 else { return nil }
            key.append(UInt8(bytes.count))
            key.append(contentsOf: bytes)
        }
        return key
    }

    /// A forward lookup's result with its records' bytes, comparable across snapshots.
    static func forward(_ snapshot: ZoneSnapshot, _ key: [UInt8]) -> String {
        let result = key.withUnsafeBytes { snapshot.lookupForward(relativeName: $0) }
        switch result {
        case .apex: return "apex"
        case .absent: return "absent"
        case .emptyNonTerminal: return "empty"
        // The same records whether from the index alone or the answer records.
        case .host, .hostAddress: return "host \(snapshot.withAnswerRecords(of: result) { records, _ in Array(records) }!)"
        }
    }

    static func reverse(_ snapshot: ZoneSnapshot, _ key: [UInt8]) -> String {
        switch key.withUnsafeBytes({ snapshot.lookupReverse(relativeName: $0) }) {
        case .apex: "apex"
        case .absent: "absent"
        case .emptyNonTerminal: "empty"
        case .pointer(let target): "pointer \(snapshot.name(of: target))"
        }
    }

    /// The reverse-zone key of `address`'s first `depth` nibbles below the /48.
    static func reverseKey(_ address: IPv6Address, depth: Int) -> [UInt8] {
        let digits = Array("0123456789abcdef".utf8)
        var nibbles: [UInt8] = []
        for index in 0..<20 {
            let bit = 48 + 4 * index
            let value = bit < 64 ? (address.high >> UInt64(60 - bit)) & 0xF : (address.low >> UInt64(60 - (bit - 64))) & 0xF
            nibbles.append(digits[Int(value)])
        }
        return nibbles[0..<depth].reversed().flatMap { [1, $0] }
    }

    static func expectSameAnswers(_ layered: ZoneSnapshot, _ reference: ZoneSnapshot, seed: UInt64, step: Int) {
        let context = "seed \(seed) step \(step)"
        #expect(layered.nameCount == reference.nameCount, "\(context)")
        #expect(layered.addressCount == reference.addressCount, "\(context)")
        #expect(layered.agentAddressCount == reference.agentAddressCount, "\(context)")
        #expect(layered.workspaceNameCount == reference.workspaceNameCount, "\(context)")
        #expect(layered.skippedAgents == reference.skippedAgents, "\(context)")
        func listing(_ snapshot: ZoneSnapshot) -> [String: [IPv6Address]] {
            Dictionary(snapshot.hostNames().map { ($0.name, $0.addresses) }, uniquingKeysWith: { first, _ in first })
        }
        let names = listing(reference)
        #expect(listing(layered) == names, "\(context)")
        #expect(layered.hostNames().count == reference.hostNames().count, "\(context)")

        var probes: [[String]] = [["me"], ["alice"], [String(repeating: "o", count: 40)], ["coder--connect--enabled--right--now"]]
        probes.append(["is", "coder--connect--enabled--right--now"])
        for workspace in workspaceNames {
            probes.append([workspace])
            for owner in ["me", "alice", String(repeating: "o", count: 40), "bob"] {
                probes.append([workspace, owner])
                for agent in agentNames { probes.append([agent, workspace, owner]) }
            }
        }
        for labels in probes {
            guard let key = key(labels) else { continue }
            #expect(forward(layered, key) == forward(reference, key), "\(context): \(labels)")
        }

        var addresses = Set(names.values.flatMap { $0 })
        addresses.insert(ServiceAddress.resolver)
        var random = SeededGenerator(seed: seed &+ UInt64(step))
        for _ in 0..<8 { addresses.insert(ServiceAddress.agent(Identifier(high: random.next(), low: random.next()))) }
        for address in addresses {
            for depth in [1, 4, 8, 12, 16, 19, 20] {
                let key = reverseKey(address, depth: depth)
                #expect(reverse(layered, key) == reverse(reference, key), "\(context): \(address) depth \(depth)")
            }
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func randomDiffsAnswerAsAWholeBuildDoes(seed: UInt64) {
        let counts = Self.run(seed: seed, configuration: seed % 2 == 0 ? Self.long : Self.plain, steps: 64, sharedAddresses: false)
        // The property is only tested if layers were built.
        #expect(counts.layered > 40, "\(counts)")
    }

    @Test func aSharedAddressMakesTheNextBuildWholeAndAnswersStayTheSame() {
        let counts = Self.run(seed: 99, configuration: Self.plain, steps: 64, sharedAddresses: true)
        #expect(counts.layered > 0 && counts.whole > 0, "\(counts)")
    }

    @Test func aLayerIsNotBuiltOnALayerOrOnNothing() {
        var state = WorkspaceState()
        var changed: Set<String>? = []
        let workspace = Identifier(high: 1, low: 1)
        _ = state.apply(
            {
                var update = WorkspaceUpdate()
                update.upsertedWorkspaces = [.init(id: IdentifierField(workspace), name: "dev", status: .running)]
                update.upsertedAgents = [
                    .init(id: IdentifierField(Identifier(high: 2, low: 2)), name: "main", workspaceID: IdentifierField(workspace))
                ]
                return update
            }(), changedNames: &changed)
        #expect(changed == nil, "a first snapshot into an empty state changes everything")
        let whole = ZoneSnapshot(state: state, configuration: Self.plain, serial: 1)
        let layered = ZoneSnapshot.updating(whole, state: state, changedNames: ["dev"], serial: 2)
        #expect(layered != nil && layered?.isWhole == false)
        if let layered { #expect(ZoneSnapshot.updating(layered, state: state, changedNames: ["dev"], serial: 3) == nil) }
        #expect(ZoneSnapshot.updating(.empty(configuration: Self.plain), state: state, changedNames: ["dev"], serial: 2) == nil)
    }
}
