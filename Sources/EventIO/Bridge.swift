import CLibevent
import Glibc

// The one place where Swift objects become `void *` for libevent and come back, where the
// `@convention(c)` trampolines live, and where errno is read. Every trampoline is a
// non-capturing closure formed here, in nonisolated library code: a C callback formed in
// @MainActor code traps when libevent calls it.

enum Errno {
    static var current: Int32 { errno }
    static func message(_ code: Int32) -> String { String(cString: strerror(code)) }
}

@inline(__always)
func retainedPointer(_ object: AnyObject) -> UnsafeMutableRawPointer {
    Unmanaged.passUnretained(object).toOpaque()
}

/// Calls `body` with the object behind `pointer`, kept alive for the whole call: a callback
/// may end with the object's owner letting go of it (a connection that closes itself).
@inline(__always)
func with<T: AnyObject>(_ pointer: UnsafeMutableRawPointer?, as type: T.Type, _ body: (T) -> Void) {
    let object = Unmanaged<T>.fromOpaque(pointer!).takeUnretainedValue()
    withExtendedLifetime(object) { body(object) }
}

/// `event_callback_fn` for plain events (sockets, timers, signals): calls `EventHandle.fire`.
let eventTrampoline: @convention(c) (Int32, Int16, UnsafeMutableRawPointer?) -> Void = { _, what, context in
    with(context, as: EventHandle.self) { $0.fire(what) }
}

let readTrampoline: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, context in
    with(context, as: TCPConnection.self) { $0.readable() }
}

let writeTrampoline: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, context in
    with(context, as: TCPConnection.self) { $0.drained() }
}

let connectionEventTrampoline: @convention(c) (OpaquePointer?, Int16, UnsafeMutableRawPointer?) -> Void = {
    _, what, context in
    with(context, as: TCPConnection.self) { $0.event(what) }
}

/// `pthread_create`'s start routine for a ``WorkerThread``: runs its body once.
let workerTrampoline: @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? = { context in
    let thread = Unmanaged<WorkerThread>.fromOpaque(context!).takeRetainedValue()
    thread.body()
    return nil
}
