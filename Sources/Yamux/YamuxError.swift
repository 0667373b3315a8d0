/// Everything that ends a yamux session or refuses a call, with what a person needs to act.
///
/// Parsing and protocol cases are fatal to the session: once ``YamuxSession/receive(_:now:)``
/// or ``YamuxSession/tick(now:)`` has thrown one, the session keeps throwing it, and the
/// transport should be closed (after flushing ``YamuxSession/takeOutput()``, which may hold a
/// GoAway telling the peer why). ``streamClosed(streamID:)`` and ``unknownStream(streamID:)``
/// only refuse one ``YamuxSession/send(_:streamID:)`` call.
public enum YamuxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A header's first byte is not 0 (Go: `ErrInvalidVersion`).
    case invalidVersion(UInt8)
    /// A header's type byte is not 0...3 (Go: `ErrInvalidMsgType`).
    case unknownFrameType(UInt8)
    /// ``YamuxFrameHeader/init(bytes:)`` was given fewer than 12 bytes.
    case truncatedHeader(available: Int)
    /// The peer sent more Data on a stream than the window we granted (Go: `ErrRecvWindowExceeded`).
    case receiveWindowExceeded(streamID: UInt32, window: UInt32, received: UInt32)
    /// The peer sent SYN for a stream id that is already open (Go: `ErrDuplicateStream`).
    case duplicateStream(streamID: UInt32)
    /// Our ping went unanswered for this many seconds (Go: `ErrKeepAliveTimeout`).
    case keepAliveTimeout(seconds: Double)
    /// The stream was closed by us (FIN or RST) or reset by the peer, so it takes no more data.
    case streamClosed(streamID: UInt32)
    /// No stream with this id was ever opened by this session.
    case unknownStream(streamID: UInt32)

    public var description: String {
        switch self {
        case .invalidVersion(let version):
            return "yamux: frame version \(version), expected 0: the peer is not speaking yamux, "
                + "or the byte stream lost sync (check that every binary WebSocket message is fed in order)"
        case .unknownFrameType(let type):
            return "yamux: frame type \(type) is not Data, WindowUpdate, Ping or GoAway: "
                + "the byte stream lost sync or the peer is not hashicorp/yamux"
        case .truncatedHeader(let available):
            return "yamux: a frame header needs 12 bytes, only \(available) given"
        case .receiveWindowExceeded(let streamID, let window, let received):
            return "yamux: stream \(streamID) received a \(received)-byte Data frame with only \(window) bytes of window left: "
                + "the peer ignored flow control (does its initial window match ours?)"
        case .duplicateStream(let streamID):
            return "yamux: the peer opened stream \(streamID), which is already open: protocol error on the peer's side"
        case .keepAliveTimeout(let seconds):
            return "yamux: no answer to our ping within \(seconds) s: the connection is dead, reconnect"
        case .streamClosed(let streamID):
            return "yamux: stream \(streamID) is closed or was reset, so it cannot send; open a new stream"
        case .unknownStream(let streamID):
            return "yamux: stream \(streamID) was never opened by this session; use the id openStream() returned"
        }
    }
}
