/// Joins DRPC frames back into packets, fed bytes in any split (`drpcwire.Reader`).
///
/// Frame data is copied straight from the caller's bytes into the packet being assembled, so a
/// 7.5 MB message in 64 KiB frames is copied once and never re-scanned. Only header bytes are
/// decoded one at a time (at most 31 a frame).
///
/// The rules are drpc's:
/// - the first frame expected is stream 1, message 1;
/// - a frame with a higher ID starts a new packet, dropping any unfinished one (drpc's way of
///   interrupting a packet);
/// - a frame with a lower ID is an error, and so is one repeating the ID of a finished packet;
/// - a frame that continues a packet with another kind is an error;
/// - a packet larger than `maximumPacketSize` is an error. This check happens when a frame's header
///   announces its length, before its data is read, so a hostile length never makes us buffer.
public struct DRPCPacketReader: Sendable {
    /// The largest packet data accepted; a bigger one is `DRPCError.packetTooLarge`.
    public let maximumPacketSize: Int

    /// The lowest ID a frame may carry (`Reader.id`).
    private var expectedID = DRPCPacketID(streamID: 1, messageID: 1)
    /// The packet whose frames are arriving, until its Done frame.
    private var packet: DRPCPacket?
    private var headerDecoder = DRPCFrameHeaderDecoder()
    /// The header of the frame whose data is being read, and how much of its data is still to come.
    private var frame: (header: DRPCFrameHeader, remainingData: Int)?
    /// The first error; every later call throws it again because the stream is out of step.
    private var failure: DRPCError?

    public init(maximumPacketSize: Int) {
        self.maximumPacketSize = max(maximumPacketSize, 0)
    }

    /// Feeds the next bytes of the stream and returns the packets they complete, in order.
    public mutating func receive(_ bytes: some Collection<UInt8>) throws(DRPCError) -> [DRPCPacket] {
        var packets: [DRPCPacket] = []
        try receive(bytes) { packet in
            packets.append(packet)
            return true
        }
        return packets
    }

    /// Feeds the next bytes of the stream, handing each packet to `deliver` as soon as its last
    /// frame is complete. `deliver` returns false to stop reading: the rest of `bytes` is then
    /// dropped, which is how a stream ends at a Close without tripping over whatever follows it.
    public mutating func receive(
        _ bytes: some Collection<UInt8>, deliver: (DRPCPacket) throws(DRPCError) -> Bool
    ) throws(DRPCError) {
        if let failure { throw failure }
        let result =
            bytes.withContiguousStorageIfAvailable { buffer in receive(buffer, deliver: deliver) }
            ?? Array(bytes).withUnsafeBufferPointer { buffer in receive(buffer, deliver: deliver) }
        if case .failure(let error) = result {
            failure = error
            throw error
        }
    }

    private mutating func receive(
        _ buffer: UnsafeBufferPointer<UInt8>, deliver: (DRPCPacket) throws(DRPCError) -> Bool
    ) -> Result<Void, DRPCError> {
        var index = 0
        do throws(DRPCError) {
            while index < buffer.count {
                var finished: DRPCPacket?
                if let (header, remainingData) = frame {
                    let count = min(remainingData, buffer.count - index)
                    packet?.data.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[index..<(index + count)]))
                    index += count
                    frame = (header, remainingData - count)
                    if remainingData == count {
                        finished = finishFrame(header)
                    }
                } else {
                    let byte = buffer[index]
                    index += 1
                    if let header = try headerDecoder.consume(byte) {
                        try startFrame(header)
                        if header.dataLength == 0 {
                            finished = finishFrame(header)
                        }
                    }
                }
                if let finished, try !deliver(finished) {
                    break
                }
            }
        } catch {
            return .failure(error)
        }
        return .success(())
    }

    /// Checks a frame's header against the packet in progress, as `ReadPacketUsing` does once it
    /// has a frame, and makes room for the frame's data.
    private mutating func startFrame(_ header: DRPCFrameHeader) throws(DRPCError) {
        if header.id < expectedID {
            throw .idMonotonicityViolation(expected: expectedID, received: header.id)
        }
        let continuing = packet.map { $0.id == header.id } ?? false
        if continuing, let current = packet, current.kind != header.kind {
            throw .packetKindChange(id: header.id, from: current.kind, to: header.kind)
        }
        let assembled = continuing ? packet?.data.count ?? 0 : 0
        // Added in 64 bits: a hostile length must not overflow before it is compared.
        let (size, overflow) = UInt64(assembled).addingReportingOverflow(header.dataLength)
        guard !overflow, size <= UInt64(maximumPacketSize) else {
            throw .packetTooLarge(limit: maximumPacketSize, size: overflow ? .max : size)
        }
        let dataLength = Int(header.dataLength)
        if continuing {
            if header.isControl { packet?.isControl = true }
            // Grow by at least doubling so many frames cost amortised linear copying, but never
            // reserve past the cap (halved first, so a cap near Int.max cannot overflow).
            if let capacity = packet?.data.capacity, capacity < Int(size) {
                let doubled = capacity > maximumPacketSize / 2 ? maximumPacketSize : 2 * capacity
                packet?.data.reserveCapacity(max(Int(size), doubled))
            }
        } else {
            // A new ID: whatever was unfinished is dropped. The first frame's length is all we know
            // of the packet's size, and it is within the cap, so memory stays bounded by the cap.
            expectedID = header.id
            var data: [UInt8] = []
            data.reserveCapacity(dataLength)
            packet = DRPCPacket(kind: header.kind, isControl: header.isControl, id: header.id, data: data)
        }
        frame = (header, dataLength)
    }

    /// Ends the current frame; returns the packet if this frame was its last.
    private mutating func finishFrame(_ header: DRPCFrameHeader) -> DRPCPacket? {
        frame = nil
        guard header.isDone, let finished = packet else { return nil }
        packet = nil
        // drpc moves past a finished packet's ID so the same ID cannot start another packet.
        expectedID.messageID &+= 1
        return finished
    }
}
