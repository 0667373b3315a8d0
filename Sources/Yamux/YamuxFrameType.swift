/// The frame's type byte (hashicorp/yamux spec.md, "Type field").
///
/// A closed enum rather than an open registry: yamux has no extension mechanism, and Go's
/// session answers any other value with `ErrInvalidMsgType` and drops the connection, so an
/// unknown type means the byte stream is not yamux (or lost sync) and parsing stops.
public enum YamuxFrameType: UInt8, Equatable, Sendable, CaseIterable {
    /// Carries `length` payload bytes for a stream.
    case data = 0
    /// Grows the receiver's send window by `length`; with flags it also opens or closes a stream.
    case windowUpdate = 1
    /// Keepalive and round-trip measurement; `length` is an opaque value echoed back.
    case ping = 2
    /// Ends the session; `length` is a ``YamuxGoAwayCode``.
    case goAway = 3
}
