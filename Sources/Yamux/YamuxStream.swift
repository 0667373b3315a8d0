/// One stream's state inside a ``YamuxSession``: its two windows, its unsent bytes, and which
/// halves are closed.
///
/// A plain value kept in the session's dictionary; the session removes it once both sides
/// have sent FIN or either side has sent RST, after which frames for its id are discarded.
struct YamuxStream: Sendable {
    /// The peer has sent ACK (Go: `streamEstablished`); until then we are in `streamSYNSent`.
    var isEstablished = false
    /// Payload bytes the peer will still accept; grows with the peer's WindowUpdates.
    var sendWindow: UInt32
    /// Payload bytes we still accept; grows with the WindowUpdates we send.
    var receiveWindow: UInt32
    /// Bytes handed up as events since our last WindowUpdate for this stream.
    var deliveredSinceWindowUpdate: UInt32 = 0
    /// Bytes the caller asked to send that the send window has not let out yet.
    var unsentBytes: [UInt8] = []
    /// The caller asked for FIN; it goes out after ``unsentBytes`` drains.
    var wantsToFinish = false
    /// Our FIN is on the wire, so `send` is refused from now on.
    var hasSentFinish = false
    /// The peer's FIN arrived: it sends no more data, so we stop granting it window.
    var peerHasFinished = false

    init(window: UInt32) {
        sendWindow = window
        receiveWindow = window
    }

    /// Both halves are closed, so the session can forget the stream (Go: `streamClosed`).
    var isFullyClosed: Bool { hasSentFinish && peerHasFinished }
}
