import DNSWire
import Synchronization

/// One processor's counts, written by its own thread on the packet path and read by any thread
/// (metrics, `coderdns status`) at any time.
///
/// Single writer: an increment is a relaxed load and a relaxed store, which on x86-64 and
/// arm64 are plain moves (no locked instruction, no fence), so counting costs what the plain
/// integers it replaces cost; a reader sees each counter whole, perhaps a few queries behind.
public final class LiveQueryCounters: Sendable {
    let noError = Atomic<Int>(0)
    let nameError = Atomic<Int>(0)
    let serverFailure = Atomic<Int>(0)
    let refused = Atomic<Int>(0)
    let formatError = Atomic<Int>(0)
    let notImplemented = Atomic<Int>(0)
    let badVersion = Atomic<Int>(0)
    let truncated = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    /// By the question's type: A, AAAA, PTR, SOA, NS, ANY, any other type, and replies without
    /// a readable question (``QueryCounters/TypeCategory``).
    let typeA = Atomic<Int>(0)
    let typeAAAA = Atomic<Int>(0)
    let typePTR = Atomic<Int>(0)
    let typeSOA = Atomic<Int>(0)
    let typeNS = Atomic<Int>(0)
    let typeANY = Atomic<Int>(0)
    let typeOther = Atomic<Int>(0)
    let typeUnread = Atomic<Int>(0)

    public init() {}

    @inline(__always)
    func bump(_ counter: borrowing Atomic<Int>) {
        counter.store(counter.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
    }

    @inline(__always)
    func count(_ rcode: RCode) {
        switch rcode {
        case .noError: bump(noError)
        case .nameError: bump(nameError)
        case .serverFailure: bump(serverFailure)
        case .refused: bump(refused)
        case .formatError: bump(formatError)
        case .notImplemented: bump(notImplemented)
        case .badVersion: bump(badVersion)
        default: break
        }
    }

    @inline(__always)
    func count(_ category: QueryCounters.TypeCategory) {
        switch category {
        case .a: bump(typeA)
        case .aaaa: bump(typeAAAA)
        case .ptr: bump(typePTR)
        case .soa: bump(typeSOA)
        case .ns: bump(typeNS)
        case .any: bump(typeANY)
        case .other: bump(typeOther)
        case .unread: bump(typeUnread)
        }
    }

    /// Replies counted so far (every RCODE), for the latency of one read.
    var answeredCount: Int {
        noError.load(ordering: .relaxed) &+ nameError.load(ordering: .relaxed) &+ serverFailure.load(ordering: .relaxed)
            &+ refused.load(ordering: .relaxed) &+ formatError.load(ordering: .relaxed) &+ notImplemented.load(ordering: .relaxed)
            &+ badVersion.load(ordering: .relaxed)
    }

    /// The counts now.
    public var snapshot: QueryCounters {
        var counts = QueryCounters()
        counts.noError = noError.load(ordering: .relaxed)
        counts.nameError = nameError.load(ordering: .relaxed)
        counts.serverFailure = serverFailure.load(ordering: .relaxed)
        counts.refused = refused.load(ordering: .relaxed)
        counts.formatError = formatError.load(ordering: .relaxed)
        counts.notImplemented = notImplemented.load(ordering: .relaxed)
        counts.badVersion = badVersion.load(ordering: .relaxed)
        counts.truncated = truncated.load(ordering: .relaxed)
        counts.dropped = dropped.load(ordering: .relaxed)
        counts.byType = [
            typeA.load(ordering: .relaxed), typeAAAA.load(ordering: .relaxed), typePTR.load(ordering: .relaxed),
            typeSOA.load(ordering: .relaxed), typeNS.load(ordering: .relaxed), typeANY.load(ordering: .relaxed),
            typeOther.load(ordering: .relaxed), typeUnread.load(ordering: .relaxed),
        ]
        return counts
    }
}
