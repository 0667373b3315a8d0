/// Reads a frame header a byte at a time, so the reader never has to hold back a partial header
/// and re-parse it when the next chunk of the yamux stream arrives.
struct DRPCFrameHeaderDecoder {
    private var controlByte: UInt8?
    private var streamID: UInt64?
    private var messageID: UInt64?
    private var streamIDDecoder = DRPCVarint.Decoder(field: "stream id")
    private var messageIDDecoder = DRPCVarint.Decoder(field: "message id")
    private var dataLengthDecoder = DRPCVarint.Decoder(field: "data length")

    /// Takes the next byte; returns the header once its last byte has arrived, ready for the next.
    mutating func consume(_ byte: UInt8) throws(DRPCError) -> DRPCFrameHeader? {
        guard let controlByte else {
            self.controlByte = byte
            return nil
        }
        guard let streamID else {
            streamID = try streamIDDecoder.consume(byte)
            return nil
        }
        guard let messageID else {
            messageID = try messageIDDecoder.consume(byte)
            return nil
        }
        guard let dataLength = try dataLengthDecoder.consume(byte) else {
            return nil
        }
        self = DRPCFrameHeaderDecoder()
        return DRPCFrameHeader(
            controlByte: controlByte,
            id: DRPCPacketID(streamID: streamID, messageID: messageID),
            dataLength: dataLength
        )
    }
}
