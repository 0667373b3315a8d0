import Glibc

/// A thread of its own that runs one closure: a UDP socket's (``UDPReaderThread``) or the
/// control-plane client's. A plain pthread: Foundation's `Thread` would load Foundation.
public final class WorkerThread: @unchecked Sendable {
    let body: @Sendable () -> Void
    private var thread = pthread_t()

    /// Starts `body` on a new thread; `purpose` names it in an error.
    public init(for purpose: String, _ body: @escaping @Sendable () -> Void) throws(EventIOError) {
        self.body = body
        // The new thread owns one reference until its start routine takes it.
        let context = Unmanaged.passRetained(self).toOpaque()
        let result = pthread_create(&thread, nil, workerTrampoline, context)
        guard result == 0 else {
            Unmanaged<WorkerThread>.fromOpaque(context).release()
            throw .system(call: "pthread_create", context: "for \(purpose)", errno: result)
        }
    }

    /// Waits for `body` to return.
    public func join() {
        pthread_join(thread, nil)
    }

    /// Runs `body` on a thread of its own that nobody waits for (a reload, a control-socket
    /// request, returning memory): plain pthreads rather than libdispatch's pool, whose
    /// workers try to change their priority and log each refusal where a seccomp filter
    /// denies `setpriority` (dist/coderdns.service). False when no thread could be made.
    @discardableResult
    public static func detached(for purpose: String, _ body: @escaping @Sendable () -> Void) -> Bool {
        guard let worker = try? WorkerThread(for: purpose, body) else { return false }
        pthread_detach(worker.thread)
        return true
    }
}
