import Synchronization

/// How long the server took to answer, in buckets, as Prometheus histograms count it:
/// written by one thread (a UDP socket's or the TCP responder's), read by any.
///
/// What is timed is one batch: from the moment its datagrams were read (or a TCP read
/// arrived) to the moment their replies were handed to the kernel (queued, for TCP). Every
/// query of the batch counts that time, so the figure is what the server adds, not what the
/// network or the kernel's queues add. Two clock reads per batch, not per query.
public final class LatencyHistogram: @unchecked Sendable {
    /// Upper bounds in seconds: 10 µs to 25 ms, then +Inf.
    public static let bounds: [Double] = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025]
    /// Per bucket (not cumulative), the last one for above every bound.
    private let buckets: UnsafeMutablePointer<Atomic<Int>>
    private let total = Atomic<Int>(0)
    private let sumNanoseconds = Atomic<Int>(0)

    public init() {
        buckets = .allocate(capacity: Self.bounds.count + 1)
        for index in 0...Self.bounds.count { (buckets + index).initialize(to: Atomic(0)) }
    }

    deinit {
        buckets.deinitialize(count: Self.bounds.count + 1)
        buckets.deallocate()
    }

    /// `count` queries answered in `seconds` (one batch). Called by the owning thread only.
    @inline(__always)
    public func observe(_ seconds: Double, count: Int) {
        guard count > 0 else { return }
        var index = 0
        while index < Self.bounds.count && seconds > Self.bounds[index] { index += 1 }
        bump(buckets[index], by: count)
        bump(total, by: count)
        bump(sumNanoseconds, by: Int(seconds * 1e9) * count)
    }

    @inline(__always)
    private func bump(_ counter: borrowing Atomic<Int>, by amount: Int) {
        counter.store(counter.load(ordering: .relaxed) &+ amount, ordering: .relaxed)
    }

    /// The counts now.
    public var snapshot: Snapshot {
        var counts: [Int] = []
        for index in 0...Self.bounds.count { counts.append(buckets[index].load(ordering: .relaxed)) }
        return Snapshot(buckets: counts, count: total.load(ordering: .relaxed), sum: Double(sumNanoseconds.load(ordering: .relaxed)) / 1e9)
    }

    public struct Snapshot: Sendable, Equatable {
        /// Per bucket, ``LatencyHistogram/bounds`` then +Inf; not cumulative.
        public var buckets: [Int]
        public var count: Int
        /// Seconds, all queries together.
        public var sum: Double

        public init(buckets: [Int] = Array(repeating: 0, count: LatencyHistogram.bounds.count + 1), count: Int = 0, sum: Double = 0) {
            self.buckets = buckets
            self.count = count
            self.sum = sum
        }

        public static func + (lhs: Snapshot, rhs: Snapshot) -> Snapshot {
            Snapshot(buckets: zip(lhs.buckets, rhs.buckets).map { $0 + $1 }, count: lhs.count + rhs.count, sum: lhs.sum + rhs.sum)
        }
    }
}
