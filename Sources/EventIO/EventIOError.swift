/// Failures of the event loop and its sockets, with the call and errno that failed.
public enum EventIOError: Error, Equatable, CustomStringConvertible {
    /// A system call failed: which one, for what, and errno.
    case system(call: String, context: String, errno: Int32)
    /// A libevent call returned failure.
    case libevent(call: String)
    /// A listen address that cannot be parsed.
    case badAddress(String, reason: String)

    public var description: String {
        switch self {
        case .system(let call, let context, let errno):
            "\(call) \(context): \(Errno.message(errno)) (errno \(errno))"
        case .libevent(let call):
            "libevent: \(call) failed"
        case .badAddress(let text, let reason):
            "bad address \"\(text)\": \(reason)"
        }
    }
}
