import DNSWire
import Foundation
import RecordStore
import Synchronization
import Testing

/// Flags and counts shared between the reader and writer tasks.
final class Shared: Sendable {
    let stop = Atomic<Bool>(false)
    let reads = Atomic<Int>(0)
    let mixed = Atomic<Int>(0)
}

@Suite("Publishing snapshots")
struct SnapshotPublisherTests {
    static let configuration = try! ZoneConfiguration(suffix: "coder", owner: "alice")

    /// A state of `count` single-agent workspaces named `<prefix>0`, `<prefix>1`, ...
    static func state(prefix: String, count: Int) -> WorkspaceState {
        var state = WorkspaceState()
        for index in 0..<count {
            let workspace = Identifier(high: UInt64(index) + 1, low: prefix == "a" ? 1 : 2)
            let agent = Identifier(high: UInt64(index) + 1, low: prefix == "a" ? 3 : 4)
            state.workspaces[workspace] = Workspace(id: workspace, name: "\(prefix)\(index)", status: .running)
            state.agents[agent] = Agent(id: agent, name: "main", workspaceID: workspace)
        }
        return state
    }

    static func has(_ snapshot: ZoneSnapshot, _ label: String) -> Bool {
        let key = [UInt8(label.utf8.count)] + Array(label.utf8)
        switch key.withUnsafeBytes({ snapshot.lookupForward(relativeName: $0) }) {
        case .host, .hostAddress: return true
        case .apex, .emptyNonTerminal, .absent: return false
        }
    }

    @Test func serialsIncrease() {
        let publisher = SnapshotPublisher(.empty(configuration: Self.configuration))
        let first = publisher.nextSerial()
        #expect(publisher.nextSerial() == first + 1)
    }

    struct BuildFailed: Error {}

    /// SERIAL counts the snapshots built: a build that fails (a rejected SIGHUP reload) uses
    /// up no serial and publishes nothing.
    @Test func aBuildThatThrowsUsesUpNoSerialAndPublishesNothing() {
        let publisher = SnapshotPublisher(.empty(configuration: Self.configuration))
        let a = Self.state(prefix: "a", count: 3)
        publisher.publish { ZoneSnapshot(state: a, configuration: Self.configuration, serial: $0) }
        #expect(publisher.snapshot.serial == 1)
        #expect(throws: BuildFailed.self) {
            try publisher.publish { (_: UInt32) throws(BuildFailed) -> ZoneSnapshot in throw BuildFailed() }
        }
        #expect(publisher.snapshot.serial == 1 && Self.has(publisher.snapshot, "a0"))
        publisher.publish { ZoneSnapshot(state: Self.state(prefix: "b", count: 3), configuration: Self.configuration, serial: $0) }
        #expect(publisher.snapshot.serial == 2 && Self.has(publisher.snapshot, "b0"))
        #expect(publisher.nextSerial() == 3)
    }

    /// A reader takes the reference once (per UDP batch, per TCP read) and answers from it
    /// however many snapshots are published meanwhile.
    @Test func aReaderKeepsAnsweringFromTheSnapshotItTook() {
        let a = ZoneSnapshot(state: Self.state(prefix: "a", count: 10), configuration: Self.configuration, serial: 1)
        let b = ZoneSnapshot(state: Self.state(prefix: "b", count: 10), configuration: Self.configuration, serial: 2)
        let publisher = SnapshotPublisher(a)
        let taken = publisher.snapshot
        publisher.publish(b)
        #expect(taken === a && Self.has(taken, "a9") && !Self.has(taken, "b9"))
        #expect(publisher.snapshot === b)
    }

    /// The replaced snapshot lives exactly as long as its last reader holds it.
    @Test func theReplacedSnapshotIsFreedWhenItsLastReaderLetsGo() {
        weak var old: ZoneSnapshot?
        let publisher = SnapshotPublisher(.empty(configuration: Self.configuration))
        var reader: ZoneSnapshot?
        do {
            let a = ZoneSnapshot(state: Self.state(prefix: "a", count: 10), configuration: Self.configuration, serial: 1)
            old = a
            publisher.publish(a)
            reader = publisher.snapshot
        }
        publisher.publish(ZoneSnapshot(state: Self.state(prefix: "b", count: 10), configuration: Self.configuration, serial: 2))
        #expect(old != nil, "still held by its reader")
        #expect(reader?.serial == 1)
        reader = nil
        #expect(old == nil, "freed with its last reader")
    }

    /// Readers on other threads, while snapshots are published one after another, only ever
    /// see a published snapshot (its names are those of its serial's state) and never an
    /// older one after a newer: the swap is one linearizable step.
    @Test func readersOnOtherThreadsSeeEachPublishedSnapshotInOrder() {
        let snapshots = (1...200).map { serial in
            ZoneSnapshot(state: Self.state(prefix: "s\(serial)x", count: 1), configuration: Self.configuration, serial: UInt32(serial))
        }
        let publisher = SnapshotPublisher(snapshots[0])
        let shared = Shared()
        // Real threads, not tasks: spinning readers must not starve the writer of the
        // cooperative pool's few threads.
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<2 {
            Thread.detachNewThread {
                var last: UInt32 = 0
                while !shared.stop.load(ordering: .relaxed) {
                    let snapshot = publisher.snapshot
                    if snapshot.serial < last || !Self.has(snapshot, "s\(snapshot.serial)x0") {
                        shared.mixed.add(1, ordering: .relaxed)
                    }
                    last = snapshot.serial
                    shared.reads.add(1, ordering: .relaxed)
                }
                done.signal()
            }
        }
        for snapshot in snapshots.dropFirst() {
            publisher.publish(snapshot)
            usleep(200)
        }
        shared.stop.store(true, ordering: .relaxed)
        done.wait()
        done.wait()
        #expect(shared.reads.load(ordering: .relaxed) > 0)
        #expect(shared.mixed.load(ordering: .relaxed) == 0)
    }
}
