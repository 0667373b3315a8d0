import EventIO
import Testing

@Suite("When a busy UDP socket is read on a timer")
struct UDPCoalescingPolicyTests {
    /// Feeds `perWakeup` datagrams every `interval` seconds for `duration` seconds, from
    /// `start`; returns the mode after each wake-up.
    static func feed(
        _ policy: inout UDPCoalescing, perWakeup: Int, every interval: Double, for duration: Double, from start: Double = 0
    ) -> [UDPCoalescing.Mode] {
        var modes: [UDPCoalescing.Mode] = []
        var now = start
        while now < start + duration {
            modes.append(policy.drained(perWakeup, at: now))
            now += interval
        }
        return modes
    }

    @Test func disabledItAlwaysReadsOnReadiness() {
        var policy = UDPCoalescing.disabled
        #expect(!policy.isEnabled)
        #expect(Self.feed(&policy, perWakeup: 32, every: 0.0001, for: 1).allSatisfy { $0 == .onReadiness })
        #expect(policy.switches == 0)
    }

    @Test func underTheRateItStaysOnReadiness() {
        // 20,000 a second: one datagram every 50 µs.
        var policy = UDPCoalescing(delay: 0.0001)
        #expect(Self.feed(&policy, perWakeup: 1, every: 0.00005, for: 1).allSatisfy { $0 == .onReadiness })
        #expect(policy.switches == 0)
    }

    @Test func overTheRateItSwitchesOnlyOnceAWindowHasPassed() {
        // 60,000 a second: three datagrams every 50 µs.
        var policy = UDPCoalescing(delay: 0.0001)
        let modes = Self.feed(&policy, perWakeup: 3, every: 0.00005, for: 0.2)
        let firstTimer = modes.firstIndex(of: .onTimer)
        // Not before the 50 ms window has been measured: wake-up 1000 is at 50 ms.
        #expect(firstTimer == 1000)
        #expect(modes[1000...].allSatisfy { $0 == .onTimer })
        #expect(policy.switches == 1)
    }

    @Test func aBurstInsideOneWindowIsNotLoad() {
        // 20,000 a second on average, sent as 100 datagrams every 5 ms: the window averages them.
        var policy = UDPCoalescing(delay: 0.0001)
        #expect(Self.feed(&policy, perWakeup: 100, every: 0.005, for: 1).allSatisfy { $0 == .onReadiness })
    }

    @Test func whenLoadDropsItLeavesTheTimerWithinTheShortWindow() {
        var policy = UDPCoalescing(delay: 0.0001)
        _ = Self.feed(&policy, perWakeup: 6, every: 0.0001, for: 0.2)  // 60,000 a second
        #expect(policy.mode == .onTimer)
        // Then 20,000 a second: two datagrams a timer read, one read every 100 µs.
        let modes = Self.feed(&policy, perWakeup: 2, every: 0.0001, for: 0.05, from: 0.2)
        let back = modes.firstIndex(of: .onReadiness) ?? modes.count
        // Back within the 5 ms exit window (plus the window already started): 10 ms at most.
        #expect(back <= 100, "after \(back) reads")
        #expect(modes[back...].allSatisfy { $0 == .onReadiness })
    }

    @Test func itGoesBackBelowFiveEighthsOfTheRateAndNotBetween() {
        var policy = UDPCoalescing(delay: 0.0001, enterRate: 40_000)
        _ = Self.feed(&policy, perWakeup: 6, every: 0.0001, for: 0.2)  // 60,000 a second
        #expect(policy.mode == .onTimer)
        // 30,000 a second: between 25,000 (exit) and 40,000 (enter): it stays on the timer.
        _ = Self.feed(&policy, perWakeup: 3, every: 0.0001, for: 0.3, from: 0.2)
        #expect(policy.mode == .onTimer)
        #expect(policy.switches == 1)
        // Idle: the timer finds nothing.
        _ = Self.feed(&policy, perWakeup: 0, every: 0.0001, for: 0.2, from: 0.5)
        #expect(policy.mode == .onReadiness)
        #expect(policy.switches == 2)
        // 30,000 a second again: not enough to re-enter.
        _ = Self.feed(&policy, perWakeup: 3, every: 0.0001, for: 0.3, from: 0.7)
        #expect(policy.mode == .onReadiness)
    }
}
