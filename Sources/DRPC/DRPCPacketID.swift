/// The identity of a DRPC packet: its stream and its message number within that stream
/// (`drpcwire.ID`).
///
/// IDs are ordered by stream, then message. The reader requires them never to go backwards, which
/// lets it drop an unfinished packet as soon as a frame with a higher ID arrives (drpc's way of
/// interrupting a packet).
public struct DRPCPacketID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var streamID: UInt64
    public var messageID: UInt64

    public init(streamID: UInt64, messageID: UInt64) {
        self.streamID = streamID
        self.messageID = messageID
    }

    public static func < (left: DRPCPacketID, right: DRPCPacketID) -> Bool {
        (left.streamID, left.messageID) < (right.streamID, right.messageID)
    }

    /// The form drpc prints, `<stream,message>`.
    public var description: String {
        "<\(streamID),\(messageID)>"
    }
}
