/// The 16-bit flags field (hashicorp/yamux spec.md, "Flag field").
///
/// Flags ride on Data and WindowUpdate frames to change a stream's state, and on Ping to tell
/// a request from its answer. Bits yamux does not define are kept, not rejected: Go ignores them.
public struct YamuxFrameFlags: OptionSet, Equatable, Sendable {
    public var rawValue: UInt16

    public init(rawValue: UInt16) {
        self.rawValue = rawValue
    }

    /// SYN: opens a stream, or asks for a Ping answer.
    public static let synchronize = YamuxFrameFlags(rawValue: 0x1)
    /// ACK: accepts a stream, or answers a Ping.
    public static let acknowledge = YamuxFrameFlags(rawValue: 0x2)
    /// FIN: half-close; the sender sends no more data on the stream.
    public static let finish = YamuxFrameFlags(rawValue: 0x4)
    /// RST: hard close; the stream is gone in both directions.
    public static let reset = YamuxFrameFlags(rawValue: 0x8)
}
