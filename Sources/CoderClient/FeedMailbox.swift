import ControlPlane
import EventIO
import Synchronization

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
    private let pipe = WakePipe()

    var descriptor: Int32 { pipe.descriptor }

    func deliver(_ message: [UInt8]) {
        let accepted = contents.withLock { contents in
            guard contents.end == nil else { return false }
            contents.messages.append(message)
            return true
        }
        if accepted { pipe.wake() }
    }

    /// The first end wins; later ones (the close that follows an error) are not news.
    func end(_ failure: FeedFailure) {
        let first = contents.withLock { contents in
            guard contents.end == nil else { return false }
            contents.end = failure
            return true
        }
        if first { pipe.wake() }
    }

    var hasEnded: Bool { contents.withLock { $0.end != nil } }

    /// Everything delivered so far, and the end if it came.
    func take(into messages: inout [[UInt8]]) -> FeedFailure? {
        pipe.drain()
        return contents.withLock { contents in
            messages.append(contentsOf: contents.messages)
            contents.messages.removeAll()
            return contents.end
        }
    }
}
