/// The code a GoAway frame carries in its length field (hashicorp/yamux `const.go`).
///
/// Plain `UInt32` constants rather than an enum, because the API hands codes around as
/// numbers and a peer may send a value yamux does not name.
public enum YamuxGoAwayCode {
    /// goAwayNormal: the peer is shutting down on purpose; no new streams, reconnect later.
    public static let normal: UInt32 = 0
    /// goAwayProtoErr: the peer saw us break the protocol.
    public static let protocolError: UInt32 = 1
    /// goAwayInternalErr: the peer failed on its own side.
    public static let internalError: UInt32 = 2
}
