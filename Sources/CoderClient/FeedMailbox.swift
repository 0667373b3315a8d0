import ControlPlane
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Hands whole messages from the event loop (where the WebSocket, yamux and DRPC machines
/// run) to the session's thread, which waits on ``descriptor`` (a pipe) in its own `poll`.
///
/// Unbounded by design: coderd sends a message only when something changed, each one is
/// capped (the DRPC message cap), and the session applies them as fast as they come; flow
/// control towards coderd is yamux's window, which is opened as bytes reach the DRPC reader,
/// as Go's client does.
final class FeedMailbox: Sendable {
    private struct Contents {
        var messages: [[UInt8]] = []
        var end: FeedFailure?
    }

    private let contents = Mutex(Contents())
    private let readEnd: Int32
    private let writeEnd: Int32

    init() {
        var fds: [Int32] = [0, 0]
        pipe(&fds)
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, O_NONBLOCK)
        }
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    var descriptor: Int32 { readEnd }

    func deliver(_ message: [UInt8]) {
        let accepted = contents.withLock { contents in
            guard contents.end == nil else { return false }
            contents.messages.append(message)
            return true
        }
        if accepted { wake() }
    }

    /// The first end wins; later ones (the close that follows an error) are not news.
    func end(_ failure: FeedFailure) {
        let first = contents.withLock { contents in
            guard contents.end == nil else { return false }
            contents.end = failure
            return true
        }
        if first { wake() }
    }

    var hasEnded: Bool { contents.withLock { $0.end != nil } }

    /// Everything delivered so far, and the end if it came.
    func take(into messages: inout [[UInt8]]) -> FeedFailure? {
        var drain = [UInt8](repeating: 0, count: 64)
        while drain.withUnsafeMutableBytes({ read(readEnd, $0.baseAddress, $0.count) }) > 0 {}
        return contents.withLock { contents in
            messages.append(contentsOf: contents.messages)
            contents.messages.removeAll()
            return contents.end
        }
    }

    private func wake() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }
}
