import CLibevent
import Glibc

/// One libevent `event_base`, driven by the thread that calls ``run()``.
///
/// Everything but ``stop()`` must happen on that thread; ``stop()`` may come from any
/// thread once ``enableThreads()`` has been called.
public final class EventLoop: @unchecked Sendable {
    let base: OpaquePointer
    private var signalHandlers: [EventHandle] = []

    /// Makes libevent safe to use from several threads (one base per thread, plus
    /// `loopexit` from others). Call once, before creating loops.
    public static func enableThreads() {
        evthread_use_pthreads()
    }

    public init() throws(EventIOError) {
        // Precise timers (a timerfd with epoll): the UDP coalescing timer waits a fraction
        // of a millisecond, and epoll_wait's own timeout counts whole milliseconds.
        guard let config = event_config_new() else { throw .libevent(call: "event_config_new") }
        defer { event_config_free(config) }
        event_config_set_flag(config, Int32(EVENT_BASE_FLAG_PRECISE_TIMER.rawValue))
        guard let base = event_base_new_with_config(config) else { throw .libevent(call: "event_base_new_with_config") }
        self.base = base
    }

    deinit {
        signalHandlers.removeAll()
        event_base_free(base)
    }

    /// Runs until ``stop()`` or until nothing is registered.
    public func run() {
        event_base_dispatch(base)
    }

    /// Ends ``run()`` after the current round of callbacks. Unlike `event_base_loopbreak`,
    /// `loopexit` is not lost when sent before the loop runs.
    public func stop() {
        event_base_loopexit(base, nil)
    }

    /// Calls `handler` on the loop's thread whenever `signal` arrives.
    public func onSignal(_ signal: Int32, _ handler: @escaping () -> Void) throws(EventIOError) {
        // A blocked mask survives exec: a parent that blocked the signal (Foundation's Process
        // does, from a Dispatch thread) would otherwise leave it pending forever.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, signal)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let handle = try EventHandle(base: base, fd: signal, events: Int16(EV_SIGNAL | EV_PERSIST)) { _ in handler() }
        handle.add()
        signalHandlers.append(handle)
    }

    /// Seconds on the monotonic clock: for deadlines that wall-clock changes must not move.
    public static func monotonicNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// Ignores SIGPIPE: a peer that closed its end must cost a failed write, not the process.
    public static func ignoreSIGPIPE() {
        signal(SIGPIPE, SIG_IGN)
    }
}
