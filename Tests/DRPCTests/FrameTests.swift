import DRPC
import Testing

@Suite("Frames")
struct FrameTests {
    static let frames: [DRPCFrame] = [
        DRPCFrame(kind: .invoke, streamID: 1, messageID: 1, data: Array(Feeding.coderMethod.utf8)),
        DRPCFrame(kind: .message, isDone: false, streamID: 1, messageID: 2, data: [UInt8](repeating: 7, count: 300)),
        DRPCFrame(kind: .closeSend, streamID: 1, messageID: 3),
        DRPCFrame(kind: .cancel, isControl: true, streamID: 1, messageID: 4),
        DRPCFrame(kind: DRPCKind(rawValue: 63), isDone: false, isControl: true, streamID: .max, messageID: .max, data: [1]),
        DRPCFrame(kind: DRPCKind(rawValue: 0), streamID: 0, messageID: 0),
    ]

    @Test("a written frame parses back to itself", arguments: frames)
    func writeThenParseRoundTrips(frame: DRPCFrame) throws {
        var bytes: [UInt8] = []
        frame.write(to: &bytes)
        var index = 0
        #expect(try DRPCFrame.parse(from: bytes, at: &index) == frame)
        #expect(index == bytes.count)
    }

    @Test("a frame cut short parses as incomplete", arguments: frames)
    func truncatedFrameIsIncomplete(frame: DRPCFrame) throws {
        var bytes: [UInt8] = []
        frame.write(to: &bytes)
        for length in 0..<bytes.count {
            var index = 0
            #expect(try DRPCFrame.parse(from: Array(bytes.prefix(length)), at: &index) == nil)
            #expect(index == 0)
        }
    }

    @Test("the control byte is control << 7 | kind << 1 | done")
    func controlByteLayout() {
        #expect(Feeding.frame(.invoke, message: 1).first == 0x03)
        #expect(Feeding.frame(.message, message: 1).first == 0x05)
        #expect(Feeding.frame(.message, message: 1, done: false).first == 0x04)
        #expect(Feeding.frame(.error, message: 1).first == 0x07)
        #expect(Feeding.frame(.close, message: 1).first == 0x0b)
        #expect(Feeding.frame(.closeSend, message: 1).first == 0x0d)
        #expect(Feeding.frame(.cancel, message: 1, control: true).first == 0x89)
    }

    @Test("a packet is split into 64 KiB frames, done only on the last")
    func packetsSplitLikeDRPC() {
        let id = DRPCPacketID(streamID: 1, messageID: 2)
        let frames = DRPCFrame.split(kind: .message, id: id, data: [UInt8](repeating: 1, count: 150_000))
        #expect(frames.map(\.data.count) == [65_536, 65_536, 18_928])
        #expect(frames.map(\.isDone) == [false, false, true])
        let empty = DRPCFrame.split(kind: .closeSend, id: id, data: [])
        #expect(empty == [DRPCFrame(kind: .closeSend, streamID: 1, messageID: 2)])
        let exact = DRPCFrame.split(kind: .message, id: id, data: [UInt8](repeating: 1, count: 65_536))
        #expect(exact.map(\.data.count) == [65_536])
    }

    @Test("a request over 64 KiB is sent as several frames that read back as one message")
    func largeRequestIsSplit() throws {
        var client = DRPCClientStream(maximumMessageSize: Feeding.limit)
        let request = (0..<100_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let written = client.invoke(method: Feeding.coderMethod, request: request)
        var reader = DRPCPacketReader(maximumPacketSize: Feeding.limit)
        let packets = try reader.receive(written)
        #expect(packets.map(\.kind) == [.invoke, .message, .closeSend])
        #expect(packets[1].data == request)
        #expect(packets.map(\.id.messageID) == [1, 2, 3])
    }
}
