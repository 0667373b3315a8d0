import CLibevent
import Glibc

/// One libevent `event_base`, driven by the thread that calls ``run()``.
///
/// Everything but ``stop()`` must happen on that thread; ``stop()`` may come from any
/// thread once ``enableThreads()`` has been called.
///
/// Priorities keep busy TCP connections from delaying a new client (docs/behaviour.md, "UDP
/// and TCP"): each turn runs at most ``connectionCallbacksPerPoll`` callbacks before it polls
/// again, a new connection's first read ahead of the rest. TCP connections are served in turn
/// (libevent's queue of ready callbacks is first in, first out). UDP is not on a loop: each
/// socket has a thread of its own (``UDPReaderThread``).
public final class EventLoop: @unchecked Sendable {
    let base: OpaquePointer
    private var signalHandlers: [EventHandle] = []

    /// Which of libevent's queues an event's callback waits in: a lower number runs first.
    enum Priority: Int32, CaseIterable {
        /// The first read of a TCP connection just accepted: a client's query is answered
        /// before the connections already open get another turn, and before the next
        /// accept can close its connection to make room (``TCPListener``).
        case newConnections = 0
        /// Everything else: TCP accepts, later reads, writes and timers, signals.
        case connections = 1
    }

    /// Callbacks run between two polls for ready sockets. One TCP read answers at most
    /// ``TCPConnection/maximumSingleRead`` bytes of queries, so a new connection that arrives
    /// while every other is busy waits for a few hundred TCP queries, not for one turn of
    /// every connection.
    static let connectionCallbacksPerPoll: Int32 = 16

    /// Makes libevent safe to use from several threads (one base per thread, plus
    /// `loopexit` from others). Call once, before creating loops.
    public static func enableThreads() {
        evthread_use_pthreads()
    }

    public init() throws(EventIOError) {
        guard let config = event_config_new() else { throw .libevent(call: "event_config_new") }
        defer { event_config_free(config) }
        event_config_set_max_dispatch_interval(config, nil, Self.connectionCallbacksPerPoll, Priority.newConnections.rawValue)
        guard let base = event_base_new_with_config(config) else { throw .libevent(call: "event_base_new_with_config") }
        // Before any event exists: an event takes the base's default priority when made.
        guard event_base_priority_init(base, Int32(Priority.allCases.count)) == 0 else {
            event_base_free(base)
            throw .libevent(call: "event_base_priority_init")
        }
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

    /// Once the running callback returns, polls for ready sockets before running any other
    /// callback: what just became ready at a higher priority goes first.
    func pollAfterThisCallback() {
        event_base_loopcontinue(base)
    }

    /// Calls `handler` on the loop's thread whenever `signal` arrives.
    public func onSignal(_ signal: Int32, _ handler: @escaping () -> Void) throws(EventIOError) {
        // A blocked mask survives exec: a parent that blocked the signal (Foundation's Process
        // does, from a Dispatch thread) would otherwise leave it pending forever.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, signal)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        let handle = try EventHandle(base: base, fd: signal, events: Int16(EV_SIGNAL | EV_PERSIST), priority: .connections) { _ in
            handler()
        }
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
