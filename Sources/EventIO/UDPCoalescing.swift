/// When a busy UDP socket is read on a short timer instead of on every readiness event:
/// adaptive interrupt moderation, as network cards do it (`ethtool -C adaptive-rx`).
///
/// Every wake-up costs the same whatever it brings: `epoll_wait`, a context switch, a
/// `recvmmsg` and a `sendmmsg`. At 60,000 queries a second a socket read on readiness wakes
/// about 20,000 times a second for three datagrams each, and those fixed costs are close to
/// half the server's CPU. Above ``enterRate`` the socket is instead read every ``delay``
/// (a timer), so each wake-up takes all that arrived meanwhile; below ``exitRate`` it goes
/// back to readiness events, so a lightly loaded server answers at once. The price is at most
/// ``delay`` (plus one batch's processing) of added latency, and only under load.
///
/// Sans-I/O: the endpoint reports each drain and the time, and follows the mode returned.
public struct UDPCoalescing: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// Read when the socket is readable.
        case onReadiness
        /// Read when a timer of ``UDPCoalescing/delay`` fires.
        case onTimer
    }

    /// How long a busy socket waits between reads, in seconds; 0 disables coalescing.
    public let delay: Double
    /// Datagrams a second at which reading switches to the timer.
    public let enterRate: Double
    /// Datagrams a second under which reading goes back to readiness events.
    public let exitRate: Double
    /// How long a rate is measured over before switching to the timer, in seconds: long, so
    /// that a sender's bursts at a moderate average rate do not count as load.
    public let window: Double
    /// How long before switching back: short, so that when load drops (a benchmark's
    /// saturation run ending, say) few queries wait for the timer.
    public let exitWindow: Double

    public private(set) var mode = Mode.onReadiness
    /// How many times the mode changed: for the operator's statistics.
    public private(set) var switches = 0
    private var windowStart: Double?
    private var windowCount = 0

    /// - Parameters:
    ///   - delay: seconds between reads of a busy socket; 0 disables coalescing.
    ///   - enterRate: datagrams a second from which the timer is used; it is left under
    ///     five eighths of that (hysteresis, so a rate near the line does not flap).
    ///   - window: how long a rate is measured over before the timer is used.
    ///   - exitWindow: how long before it is left.
    public init(delay: Double, enterRate: Double = 40_000, window: Double = 0.05, exitWindow: Double = 0.005) {
        self.delay = delay
        self.enterRate = enterRate
        self.exitRate = enterRate * 5 / 8
        self.window = window
        self.exitWindow = exitWindow
    }

    public static let disabled = UDPCoalescing(delay: 0)

    public var isEnabled: Bool { delay > 0 }

    /// Records that one wake-up read `count` datagrams at time `now` (seconds, monotonic);
    /// returns how to wait for the next ones.
    public mutating func drained(_ count: Int, at now: Double) -> Mode {
        guard isEnabled else { return .onReadiness }
        guard let start = windowStart else {
            windowStart = now
            windowCount = count
            return mode
        }
        windowCount += count
        let elapsed = now - start
        guard elapsed >= (mode == .onTimer ? exitWindow : window) else { return mode }
        let rate = Double(windowCount) / elapsed
        switch mode {
        case .onReadiness where rate >= enterRate:
            mode = .onTimer
            switches += 1
        case .onTimer where rate < exitRate:
            mode = .onReadiness
            switches += 1
        default: break
        }
        windowStart = now
        windowCount = 0
        return mode
    }
}
