/// The knobs of a session, with hashicorp/yamux `DefaultConfig()` values, which coderd uses.
public struct YamuxConfiguration: Sendable {
    /// The window every yamux stream starts with in both directions (Go: `initialStreamWindow`).
    ///
    /// yamux never negotiates it: each side assumes the other starts at 256 KiB. A receive
    /// window can only grow from here by WindowUpdates, so ``initialWindow`` below this value
    /// makes us reject data a Go peer is allowed to send.
    public static let protocolInitialWindow: UInt32 = 262_144

    /// Each stream's receive window, and the initial send window (Go's MaxStreamWindowSize, 256 KiB).
    ///
    /// Keep it at ``protocolInitialWindow``: see there. We send a WindowUpdate once half of
    /// it has been delivered, as Go does.
    public var initialWindow: UInt32 = 262_144
    /// Seconds between our own pings (Go: 30). 0 turns keepalive off.
    public var keepAliveInterval: Double = 30
    /// Seconds to wait for a ping's ACK before the session is dead (Go: ConnectionWriteTimeout 10 s).
    public var keepAliveTimeout: Double = 10

    public init() {}
}
