import DRPC
import Testing

/// drpc's reader rules (`drpcwire.Reader`), one at a time.
@Suite("Packet reassembly")
struct PacketReaderTests {
    @Test("a packet exactly at the cap is accepted, one byte more is packetTooLarge")
    func capIsInclusive() throws {
        let atCap = Feeding.frame(.message, message: 1, done: false, data: [1, 2, 3]) + Feeding.frame(.message, message: 1, data: [4])
        #expect(try Feeding.events(atCap, maximumMessageSize: 4) == [.message([1, 2, 3, 4])])
        let overCap = atCap + Feeding.frame(.message, message: 2, done: false, data: [1, 2]) + Feeding.frame(.message, message: 2, data: [3, 4, 5])
        #expect(throws: DRPCError.packetTooLarge(limit: 4, size: 5)) {
            try Feeding.events(overCap, maximumMessageSize: 4)
        }
    }

    @Test("a frame announcing more than the cap fails before its data arrives")
    func hugeLengthFailsAtTheHeader() {
        // Message, stream 1, message 1, length 2^62: only the header is sent.
        var bytes: [UInt8] = [0x05, 0x01, 0x01]
        DRPCVarint.append(1 << 62, to: &bytes)
        #expect(throws: DRPCError.packetTooLarge(limit: 1024, size: 1 << 62)) {
            try Feeding.events(bytes, maximumMessageSize: 1024)
        }
    }

    @Test("a message id going backwards is an id monotonicity violation")
    func idGoingBackwardsIsAnError() {
        let bytes = Feeding.frame(.message, message: 5, data: [1]) + Feeding.frame(.message, message: 4, data: [2])
        #expect(
            throws: DRPCError.idMonotonicityViolation(
                expected: DRPCPacketID(streamID: 1, messageID: 6), received: DRPCPacketID(streamID: 1, messageID: 4))
        ) {
            try Feeding.events(bytes)
        }
    }

    @Test("repeating the id of a finished packet is an id monotonicity violation")
    func repeatedIdAfterDoneIsAnError() {
        let bytes = Feeding.frame(.message, message: 1, data: [1]) + Feeding.frame(.message, message: 1, data: [2])
        #expect(throws: DRPCError.self) {
            try Feeding.events(bytes)
        }
    }

    @Test("stream id 0 is below the first expected id and is an error")
    func streamZeroIsAnError() {
        #expect(throws: DRPCError.self) {
            try Feeding.events(Feeding.frame(.message, stream: 0, message: 1, data: [1]))
        }
    }

    @Test("a kind change in the middle of a packet is an error")
    func kindChangeMidPacketIsAnError() {
        let bytes = Feeding.frame(.message, message: 1, done: false, data: [1]) + Feeding.frame(.error, message: 1, data: [2])
        #expect(
            throws: DRPCError.packetKindChange(id: DRPCPacketID(streamID: 1, messageID: 1), from: .message, to: .error)
        ) {
            try Feeding.events(bytes)
        }
    }

    @Test("a new message id drops the unfinished packet before it")
    func newIdDropsTheUnfinishedPacket() throws {
        let bytes =
            Feeding.frame(.message, message: 1, done: false, data: [1, 1])
            + Feeding.frame(.message, message: 3, done: false, data: [3])
            + Feeding.frame(.message, message: 3, data: [4])
        #expect(try Feeding.events(bytes) == [.message([3, 4])])
    }

    @Test("a new message id may also change the kind")
    func newIdMayChangeTheKind() throws {
        let bytes = Feeding.frame(.message, message: 1, done: false, data: [1]) + Feeding.frame(.close, message: 2)
        #expect(try Feeding.events(bytes) == [.closed])
    }

    @Test("an empty message is delivered as an empty message")
    func emptyMessage() throws {
        #expect(try Feeding.events(Feeding.frame(.message, message: 1)) == [.message([])])
    }

    @Test("the control bit on any frame marks the whole packet")
    func controlBitMarksThePacket() throws {
        var reader = DRPCPacketReader(maximumPacketSize: 16)
        let packets = try reader.receive(
            Feeding.frame(DRPCKind(rawValue: 9), message: 1, done: false)
                + Feeding.frame(DRPCKind(rawValue: 9), message: 1, control: true, data: [1]))
        #expect(packets == [DRPCPacket(kind: DRPCKind(rawValue: 9), isControl: true, id: DRPCPacketID(streamID: 1, messageID: 1), data: [1])])
    }

    @Test("after an error every later call throws the same error")
    func errorsAreSticky() {
        var stream = DRPCClientStream(maximumMessageSize: 16)
        let bad = Feeding.frame(.message, message: 2, data: [1]) + Feeding.frame(.message, message: 1, data: [1])
        #expect(throws: DRPCError.self) { try stream.receive(bad) }
        #expect(throws: DRPCError.self) { try stream.receive(Feeding.frame(.message, message: 9, data: [1])) }
    }

    @Test("7.5 MB in 64 KiB frames, fed in 256 KiB chunks, is reassembled once")
    func largeUpdateInManyFrames() throws {
        let payload = (0..<7_500_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var bytes: [UInt8] = []
        for frame in DRPCFrame.split(kind: .message, id: DRPCPacketID(streamID: 1, messageID: 1), data: payload) {
            frame.write(to: &bytes)
        }
        bytes += Feeding.frame(.close, message: 2)
        let cuts = Array(stride(from: 256 * 1024, to: bytes.count, by: 256 * 1024))
        let clock = ContinuousClock()
        var events: [DRPCEvent] = []
        let elapsed = try clock.measure {
            events = try Feeding.events(bytes, cuts: cuts)
        }
        #expect(events == [.message(payload), .closed])
        // Generous: linear work is milliseconds even in a debug build; quadratic copying is not.
        #expect(elapsed < .seconds(5))
    }

    @Test("a cap of Int.max does not overflow while a packet grows")
    func capNearIntMaxDoesNotOverflow() throws {
        var reader = DRPCPacketReader(maximumPacketSize: .max)
        let bytes =
            Feeding.frame(.message, message: 1, done: false, data: [1, 2])
            + Feeding.frame(.message, message: 1, done: false, data: [3, 4, 5])
            + Feeding.frame(.message, message: 1, data: [6])
        #expect(try reader.receive(bytes).map(\.data) == [[1, 2, 3, 4, 5, 6]])
    }

    @Test("a negative cap accepts only empty packets")
    func negativeCapAcceptsOnlyEmptyPackets() throws {
        var reader = DRPCPacketReader(maximumPacketSize: -1)
        #expect(try reader.receive(Feeding.frame(.close, message: 1)).count == 1)
        #expect(throws: DRPCError.packetTooLarge(limit: 0, size: 1)) {
            try reader.receive(Feeding.frame(.message, message: 2, data: [1]))
        }
    }
}
