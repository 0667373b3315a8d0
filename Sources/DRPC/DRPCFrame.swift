/// One DRPC frame: a header and up to 64 KiB of data (`drpcwire.Frame`).
///
/// A packet larger than `splitSize` travels as several frames with the same ID and kind, Done set
/// only on the last; `DRPCPacketReader` joins them again.
public struct DRPCFrame: Hashable, Sendable {
    /// drpc splits packets into frames of this size (`drpcwire.SplitData` with n = 0, which
    /// `drpcstream` uses because coder sets no `SplitSize`); we split what we send the same way.
    public static let splitSize = 64 * 1024

    public var kind: DRPCKind
    /// Done: the last frame of its packet.
    public var isDone: Bool
    /// Control: a receiver that does not know `kind` may ignore the packet.
    public var isControl: Bool
    public var streamID: UInt64
    public var messageID: UInt64
    public var data: [UInt8]

    public init(kind: DRPCKind, isDone: Bool = true, isControl: Bool = false, streamID: UInt64, messageID: UInt64, data: [UInt8] = []) {
        self.kind = kind
        self.isDone = isDone
        self.isControl = isControl
        self.streamID = streamID
        self.messageID = messageID
        self.data = data
    }

    public var header: DRPCFrameHeader {
        DRPCFrameHeader(
            kind: kind,
            isDone: isDone,
            isControl: isControl,
            id: DRPCPacketID(streamID: streamID, messageID: messageID),
            dataLength: UInt64(data.count)
        )
    }

    /// Appends the frame as drpc's `AppendFrame` does: control byte, varint stream id, varint
    /// message id, varint data length, data.
    public func write(to bytes: inout [UInt8]) {
        header.write(to: &bytes)
        bytes.append(contentsOf: data)
    }

    /// Parses one frame starting at `index` and advances `index` past it, as drpc's `ParseFrame`
    /// does. Returns nil, leaving `index` alone, when the bytes end before the frame does.
    public static func parse(from bytes: [UInt8], at index: inout Int) throws(DRPCError) -> DRPCFrame? {
        var decoder = DRPCFrameHeaderDecoder()
        var position = index
        while position < bytes.count {
            let byte = bytes[position]
            position += 1
            guard let header = try decoder.consume(byte) else { continue }
            guard header.dataLength <= UInt64(bytes.count - position) else { return nil }
            let end = position + Int(header.dataLength)
            index = end
            return DRPCFrame(
                kind: header.kind,
                isDone: header.isDone,
                isControl: header.isControl,
                streamID: header.id.streamID,
                messageID: header.id.messageID,
                data: Array(bytes[position..<end])
            )
        }
        return nil
    }

    /// Splits a packet's data into frames of at most `size` bytes, Done on the last, as
    /// `drpcwire.SplitData` does: empty data still makes one (empty, Done) frame.
    public static func split(
        kind: DRPCKind, id: DRPCPacketID, data: [UInt8], size: Int = splitSize, isControl: Bool = false
    ) -> [DRPCFrame] {
        let frameSize = max(size, 1)
        var frames: [DRPCFrame] = []
        var start = 0
        repeat {
            let end = min(start + frameSize, data.count)
            frames.append(
                DRPCFrame(
                    kind: kind,
                    isDone: end == data.count,
                    isControl: isControl,
                    streamID: id.streamID,
                    messageID: id.messageID,
                    data: Array(data[start..<end])
                )
            )
            start = end
        } while start < data.count
        return frames
    }
}
