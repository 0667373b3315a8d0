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
        if case .host = key.withUnsafeBytes({ snapshot.lookupForward(relativeName: $0) }) { return true }
        return false
    }

    @Test func serialsIncrease() {
        let publisher = SnapshotPublisher(.empty(configuration: Self.configuration))
        let first = publisher.nextSerial()
        #expect(publisher.nextSerial() > first)
    }

    /// Readers on other threads see either all of A or all of B while snapshots are swapped:
    /// never a mix, never a half-built one.
    @Test func readersNeverSeeHalfAnUpdate() {
        let a = ZoneSnapshot(state: Self.state(prefix: "a", count: 2000), configuration: Self.configuration, serial: 1)
        let b = ZoneSnapshot(state: Self.state(prefix: "b", count: 2000), configuration: Self.configuration, serial: 2)
        let publisher = SnapshotPublisher(a)
        let shared = Shared()
        // Real threads, not tasks: spinning readers must not starve the writer of the
        // cooperative pool's few threads.
        let done = DispatchSemaphore(value: 0)
        for _ in 0..<2 {
            Thread.detachNewThread {
                while !shared.stop.load(ordering: .relaxed) {
                    let snapshot = publisher.snapshot
                    let inA = Self.has(snapshot, "a0") && Self.has(snapshot, "a1999")
                    let inB = Self.has(snapshot, "b0") && Self.has(snapshot, "b1999")
                    if inA == inB || (inA && Self.has(snapshot, "b7")) || (inB && Self.has(snapshot, "a7")) {
                        shared.mixed.add(1, ordering: .relaxed)
                    }
                    shared.reads.add(1, ordering: .relaxed)
                }
                done.signal()
            }
        }
        for round in 0..<20_000 {
            publisher.publish(round % 2 == 0 ? b : a)
            if round % 1000 == 0 { usleep(100) }
        }
        shared.stop.store(true, ordering: .relaxed)
        done.wait()
        done.wait()
        #expect(shared.reads.load(ordering: .relaxed) > 0)
        #expect(shared.mixed.load(ordering: .relaxed) == 0)
    }
}
