/// Something the peer did that the layer above must know about, in the order it happened.
public enum YamuxEvent: Equatable, Sendable {
    /// The peer's ACK for a stream we opened (Go's `AcceptStream` sends `WindowUpdate|ACK`).
    case streamEstablished(streamID: UInt32)
    /// The payload of one Data frame; a stream's events arrive in wire order.
    case data(streamID: UInt32, bytes: [UInt8])
    /// The peer sent FIN: it sends no more data on the stream, though we may still send.
    case streamFinished(streamID: UInt32)
    /// The peer sent RST: the stream is gone; a RST instead of the first ACK means it was refused.
    case streamReset(streamID: UInt32)
    /// The peer is closing the session; see ``YamuxGoAwayCode`` (0 normal, 1 protocol, 2 internal).
    case goAway(code: UInt32)
    /// The answer to our keepalive ping, with the seconds it took.
    case pingAnswered(roundTrip: Double)
}
