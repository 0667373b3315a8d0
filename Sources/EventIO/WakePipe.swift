import Glibc

/// A non-blocking pipe that one thread polls and others write a byte to: how a blocking
/// thread (the control-plane session, a feed's dial) is woken to stop or to look at a queue.
public final class WakePipe: Sendable {
    /// Readable after ``wake()``; `poll` it, then ``drain()``.
    public let descriptor: Int32
    private let writeEnd: Int32

    public init() {
        var fds: [Int32] = [-1, -1]
        pipe(&fds)
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        descriptor = fds[0]
        writeEnd = fds[1]
    }

    deinit {
        close(descriptor)
        close(writeEnd)
    }

    public func wake() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    /// Empties the pipe (the wake-ups so far are seen).
    public func drain() {
        var bytes = [UInt8](repeating: 0, count: 64)
        while bytes.withUnsafeMutableBytes({ read(descriptor, $0.baseAddress, $0.count) }) > 0 {}
    }
}
