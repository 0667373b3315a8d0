import Testing
import Yamux

@Suite("Stream lifecycle")
struct YamuxStreamLifecycleTests {
    @Test func theServersAckEstablishesTheStream() throws {
        var session = YamuxSession(now: 0)
        let stream = session.openStream()
        let ack: [UInt8] = [
            0x00,  // version 0
            0x01,  // type: WindowUpdate
            0x00, 0x02,  // flags: ACK
            0x00, 0x00, 0x00, 0x01,  // stream id 1
            0x00, 0x00, 0x00, 0x00,  // delta 0
        ]
        #expect(try session.receive(ack, now: 0) == [.streamEstablished(streamID: stream)])
        #expect(try session.receive(ack, now: 0).isEmpty, "a second ACK changes nothing")
    }

    @Test func theServersFinHalfClosesTheStream() throws {
        var session = try establishedSession()
        #expect(try session.receive(frame(.windowUpdate, .finish, stream: 1, length: 0), now: 0) == [.streamFinished(streamID: 1)])
        try session.send([1, 2, 3], streamID: 1)
        #expect(try headers(in: session.takeOutput()).map(\.type) == [.data], "our half is still open")
        session.closeStream(1)
        #expect(!session.isOpen(streamID: 1), "both halves closed")
        #expect(throws: YamuxError.streamClosed(streamID: 1)) { try session.send([1], streamID: 1) }
    }

    @Test func theServersRstResetsTheStream() throws {
        var session = try establishedSession()
        #expect(try session.receive(frame(.windowUpdate, .reset, stream: 1, length: 0), now: 0) == [.streamReset(streamID: 1)])
        #expect(!session.isOpen(streamID: 1))
        #expect(throws: YamuxError.streamClosed(streamID: 1)) { try session.send([1], streamID: 1) }
        #expect(try session.receive(dataFrame(stream: 1, payload: [9, 9]), now: 0).isEmpty, "late data is discarded")
    }

    @Test func aRstInsteadOfAnAckMeansTheStreamWasRefused() throws {
        var session = YamuxSession(now: 0)
        _ = session.openStream()
        #expect(try session.receive(frame(.windowUpdate, .reset, stream: 1, length: 0), now: 0) == [.streamReset(streamID: 1)])
    }

    @Test func flagsOnADataFrameApplyAroundItsPayload() throws {
        var session = YamuxSession(now: 0)
        _ = session.openStream()
        let events = try session.receive(dataFrame([.acknowledge, .finish], stream: 1, payload: [4, 2]), now: 0)
        #expect(events == [.streamEstablished(streamID: 1), .data(streamID: 1, bytes: [4, 2]), .streamFinished(streamID: 1)])
    }

    @Test(arguments: [0, 1, 2, 0xFFFF_FFFF] as [UInt32])
    func aGoAwayIsReportedWithItsCode(code: UInt32) throws {
        var session = YamuxSession(now: 0)
        #expect(try session.receive(frame(.goAway, stream: 0, length: code), now: 0) == [.goAway(code: code)])
        #expect(session.peerGoAwayCode == code)
    }

    @Test func dataForAnUnknownStreamIsDiscarded() throws {
        var session = try establishedSession()
        let stray = dataFrame(stream: 7, payload: [UInt8](repeating: 1, count: 1_000_000)) + frame(.windowUpdate, stream: 9, length: 5)
        let events = try session.receive(stray + dataFrame(stream: 1, payload: [5]), now: 0)
        #expect(events == [.data(streamID: 1, bytes: [5])])
        #expect(session.takeOutput().isEmpty)
    }

    @Test func aHugeLengthForAnUnknownStreamIsSkippedWithoutBuffering() throws {
        var session = try establishedSession()
        #expect(try session.receive(frame(.data, stream: 8, length: 0xFFFF_FFFF), now: 0).isEmpty)
        #expect(try session.receive([UInt8](repeating: 0, count: 1_000_000), now: 0).isEmpty)
    }

    @Test func aStreamTheServerOpensIsRefusedWithRst() throws {
        var session = try establishedSession()
        #expect(try session.receive(dataFrame(.synchronize, stream: 2, payload: [1, 2, 3]), now: 0).isEmpty)
        #expect(try headers(in: session.takeOutput()) == [YamuxFrameHeader(type: .windowUpdate, flags: .reset, streamID: 2, length: 0)])
    }

    @Test func aSynForAStreamAlreadyOpenIsAProtocolError() throws {
        var session = try establishedSession()
        #expect(throws: YamuxError.duplicateStream(streamID: 1)) {
            try session.receive(frame(.windowUpdate, .synchronize, stream: 1, length: 0), now: 0)
        }
        #expect(try headers(in: session.takeOutput()) == [YamuxFrameHeader(type: .goAway, streamID: 0, length: 1)])
    }

    @Test func anInvalidVersionEndsTheSession() throws {
        var session = try establishedSession()
        var bad = frame(.ping, .synchronize, stream: 0, length: 1)
        bad[0] = 0x02  // version 2
        #expect(throws: YamuxError.invalidVersion(2)) { try session.receive(bad, now: 0) }
        #expect(throws: YamuxError.invalidVersion(2)) { try session.tick(now: 0) }
    }

    @Test func anUnknownTypeEndsTheSession() throws {
        var session = try establishedSession()
        var bad = frame(.ping, .synchronize, stream: 0, length: 1)
        bad[1] = 0x07  // type 7
        #expect(throws: YamuxError.unknownFrameType(7)) { try session.receive(bad, now: 0) }
    }

    @Test func sendingOnAStreamNeverOpenedIsRefused() {
        var session = YamuxSession(now: 0)
        #expect(throws: YamuxError.unknownStream(streamID: 1)) { try session.send([1], streamID: 1) }
        #expect(throws: YamuxError.unknownStream(streamID: 2)) { try session.send([1], streamID: 2) }
    }

    @Test func sendingAfterOurOwnCloseOrResetIsRefused() throws {
        var session = try establishedSession()
        session.closeStream(1)
        #expect(throws: YamuxError.streamClosed(streamID: 1)) { try session.send([1], streamID: 1) }
        let second = session.openStream()
        session.resetStream(second)
        #expect(throws: YamuxError.streamClosed(streamID: second)) { try session.send([1], streamID: second) }
    }

    @Test func closingTwiceSendsOneFin() throws {
        var session = try establishedSession()
        session.closeStream(1)
        session.closeStream(1)
        session.closeStream(99)
        session.resetStream(99)
        #expect(try headers(in: session.takeOutput()).count == 1)
    }

    @Test func aStreamResetWhileItsDataArrivesDropsThatData() throws {
        var session = try establishedSession()
        let data = dataFrame(stream: 1, payload: [1, 2, 3, 4])
        #expect(try session.receive(data[..<14], now: 0).isEmpty)
        session.resetStream(1)
        #expect(try session.receive(data[14...], now: 0).isEmpty)
    }
}
