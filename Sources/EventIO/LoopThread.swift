import Glibc

/// A thread of its own that runs one ``EventLoop`` until the loop is stopped.
public final class LoopThread: @unchecked Sendable {
    let loop: EventLoop
    private var thread = pthread_t()

    /// Starts `loop.run()` on a new thread.
    public init(running loop: EventLoop) throws(EventIOError) {
        self.loop = loop
        // The new thread owns one reference until its start routine takes it.
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, threadTrampoline, context)
        guard result == 0 else {
            Unmanaged<LoopThread>.fromOpaque(context).release()
            throw .system(call: "pthread_create", context: "for an event loop", errno: result)
        }
    }

    /// Waits for the loop to end (after its ``EventLoop/stop()``).
    public func join() {
        pthread_join(thread, nil)
    }
}

/// A thread of its own that runs one closure, for work that is not an event loop (the
/// control-plane client). A plain pthread: Foundation's `Thread` would load Foundation.
public final class WorkerThread: @unchecked Sendable {
    let body: @Sendable () -> Void
    private var thread = pthread_t()

    /// Starts `body` on a new thread.
    public init(_ body: @escaping @Sendable () -> Void) throws(EventIOError) {
        self.body = body
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, workerTrampoline, context)
        guard result == 0 else {
            Unmanaged<WorkerThread>.fromOpaque(context).release()
            throw .system(call: "pthread_create", context: "for a worker thread", errno: result)
        }
    }

    /// Waits for `body` to return.
    public func join() {
        pthread_join(thread, nil)
    }
}
