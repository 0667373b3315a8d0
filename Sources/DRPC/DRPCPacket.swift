/// A whole DRPC packet: the data of one or more frames with the same ID and kind, up to the frame
/// with Done set (`drpcwire.Packet`).
public struct DRPCPacket: Hashable, Sendable {
    public var kind: DRPCKind
    /// Set if any of its frames had the control bit, as in drpc's reader.
    public var isControl: Bool
    public var id: DRPCPacketID
    public var data: [UInt8]

    public init(kind: DRPCKind, isControl: Bool = false, id: DRPCPacketID, data: [UInt8] = []) {
        self.kind = kind
        self.isControl = isControl
        self.id = id
        self.data = data
    }
}
