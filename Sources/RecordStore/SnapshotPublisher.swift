import Synchronization

/// Holds the snapshot that queries are answered from.
///
/// Publishing is one reference swap under a mutex, so a reader sees either the whole old
/// snapshot or the whole new one, never a mix. Readers take the reference once per packet
/// batch (a few tens of nanoseconds uncontended) and hold no lock while they answer; the old
/// snapshot is freed when its last reader lets go.
public final class SnapshotPublisher: Sendable {
    private let current: Mutex<ZoneSnapshot>
    /// Bumped on every publish: the next snapshot's SOA serial.
    private let generation = Atomic<UInt32>(0)

    public init(_ initial: ZoneSnapshot) {
        current = Mutex(initial)
    }

    public var snapshot: ZoneSnapshot {
        current.withLock { $0 }
    }

    public func publish(_ snapshot: ZoneSnapshot) {
        current.withLock { $0 = snapshot }
    }

    /// A serial for the next snapshot: increases with every call.
    public func nextSerial() -> UInt32 {
        generation.add(1, ordering: .relaxed).newValue
    }
}
