import Synchronization

/// Holds the snapshot that queries are answered from.
///
/// Publishing is one reference swap under a mutex, so a reader sees either the whole old
/// snapshot or the whole new one, never a mix. Readers take the reference once per packet
/// batch (a few tens of nanoseconds uncontended) and hold no lock while they answer; the old
/// snapshot is freed when its last reader lets go.
public final class SnapshotPublisher: Sendable {
    private let current: Mutex<ZoneSnapshot>
    /// The last SOA serial handed out: the number of snapshots built so far.
    private let lastSerial = Mutex<UInt32>(0)

    public init(_ initial: ZoneSnapshot) {
        current = Mutex(initial)
    }

    public var snapshot: ZoneSnapshot {
        current.withLock { $0 }
    }

    public func publish(_ snapshot: ZoneSnapshot) {
        current.withLock { $0 = snapshot }
    }

    /// A serial for the next snapshot: increases with every call. For a build that cannot
    /// fail; one that can goes through ``publish(building:)``.
    public func nextSerial() -> UInt32 {
        lastSerial.withLock { serial in
            serial &+= 1
            return serial
        }
    }

    /// Builds a snapshot with the next serial and publishes it. A build that throws uses up
    /// no serial (SERIAL counts the snapshots built, docs/behaviour.md) and publishes nothing.
    /// Other builders wait for this one.
    public func publish<Failure: Error>(building build: (UInt32) throws(Failure) -> ZoneSnapshot) throws(Failure) {
        try lastSerial.withLock { (serial: inout UInt32) throws(Failure) -> Void in
            let snapshot = try build(serial &+ 1)
            serial &+= 1
            publish(snapshot)
        }
    }
}
