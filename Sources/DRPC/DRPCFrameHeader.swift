/// Everything in a DRPC frame before its data (`drpcwire.ParseFrame`):
/// ```
/// byte 0   control: bit 7 = Control ("ignore if unknown"), bits 6..1 = Kind, bit 0 = Done
/// varint   stream id
/// varint   message id
/// varint   data length
/// ```
public struct DRPCFrameHeader: Hashable, Sendable {
    public var kind: DRPCKind
    /// Done: the last frame of its packet.
    public var isDone: Bool
    /// Control: a receiver that does not know `kind` may ignore the packet.
    public var isControl: Bool
    public var id: DRPCPacketID
    /// How many data bytes follow the header.
    public var dataLength: UInt64

    public init(kind: DRPCKind, isDone: Bool, isControl: Bool, id: DRPCPacketID, dataLength: UInt64) {
        self.kind = kind
        self.isDone = isDone
        self.isControl = isControl
        self.id = id
        self.dataLength = dataLength
    }

    /// The first byte of the frame: `control << 7 | kind << 1 | done`. Only the low six bits of the
    /// kind fit.
    var controlByte: UInt8 {
        (isControl ? 0x80 : 0) | (kind.rawValue & 0x3F) << 1 | (isDone ? 1 : 0)
    }

    init(controlByte: UInt8, id: DRPCPacketID, dataLength: UInt64) {
        self.init(
            kind: DRPCKind(rawValue: (controlByte & 0x7E) >> 1),
            isDone: controlByte & 0x01 != 0,
            isControl: controlByte & 0x80 != 0,
            id: id,
            dataLength: dataLength
        )
    }

    public func write(to bytes: inout [UInt8]) {
        bytes.append(controlByte)
        DRPCVarint.append(id.streamID, to: &bytes)
        DRPCVarint.append(id.messageID, to: &bytes)
        DRPCVarint.append(dataLength, to: &bytes)
    }
}
