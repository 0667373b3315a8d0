import CLibevent
import Glibc

/// A libevent `struct event` that calls a Swift closure: a socket watcher, a timer or a
/// signal. The owner keeps the handle alive while it is registered.
final class EventHandle {
    private(set) var event: OpaquePointer? = nil
    private let action: (Int16) -> Void

    init(
        base: OpaquePointer, fd: Int32, events: Int16, priority: EventLoop.Priority, action: @escaping (Int16) -> Void
    ) throws(EventIOError) {
        self.action = action
        // Every stored property is set (event is nil), so self can be the context.
        guard let event = event_new(base, fd, events, eventTrampoline, retainedPointer(self)) else {
            throw .libevent(call: "event_new")
        }
        self.event = event
        event_priority_set(event, priority.rawValue)
    }

    func fire(_ what: Int16) { action(what) }

    /// Arms the event, with a timeout when `seconds` is given.
    func add(timeout seconds: Double? = nil) {
        guard let event else { return }
        if let seconds {
            var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
            event_add(event, &tv)
        } else {
            event_add(event, nil)
        }
    }

    func remove() {
        if let event { event_del(event) }
    }

    func free() {
        if let event {
            event_del(event)
            event_free(event)
        }
        event = nil
    }

    deinit { free() }
}
