import Testing
import Yamux

/// The transport may cut the byte stream anywhere: Go writes header and body separately.
@Suite("Framing across reads")
struct YamuxFramingTests {
    /// ACK, data, a ping, more data with FIN, then GoAway: every frame type the client meets.
    static let conversation: [UInt8] =
        frame(.windowUpdate, .acknowledge, stream: 1, length: 0)
        + dataFrame(stream: 1, payload: Array("hello".utf8))
        + frame(.ping, .synchronize, stream: 0, length: 42)
        + dataFrame(stream: 1, payload: [])
        + dataFrame(.finish, stream: 1, payload: Array(0..<40))
        + frame(.goAway, stream: 0, length: 0)

    static let expectedEvents: [YamuxEvent] = [
        .streamEstablished(streamID: 1),
        .data(streamID: 1, bytes: Array("hello".utf8)),
        .data(streamID: 1, bytes: Array(0..<40)),
        .streamFinished(streamID: 1),
        .goAway(code: 0),
    ]

    private func freshSession() -> YamuxSession {
        var session = YamuxSession(now: 0)
        _ = session.openStream()
        _ = session.takeOutput()
        return session
    }

    @Test func manyFramesInOneCallYieldEveryEvent() throws {
        var session = freshSession()
        #expect(try session.receive(Self.conversation, now: 0) == Self.expectedEvents)
        #expect(try headers(in: session.takeOutput()) == [YamuxFrameHeader(type: .ping, flags: .acknowledge, streamID: 0, length: 42)])
    }

    @Test func aSplitAtEveryByteBoundaryYieldsTheSameEvents() throws {
        for cut in 0...Self.conversation.count {
            var session = freshSession()
            var events = try session.receive(Self.conversation[..<cut], now: 0)
            events += try session.receive(Self.conversation[cut...], now: 0)
            #expect(events == Self.expectedEvents, "cut at \(cut)")
            #expect(try headers(in: session.takeOutput()).count == 1, "cut at \(cut)")
        }
    }

    @Test func oneByteAtATimeYieldsTheSameEvents() throws {
        var session = freshSession()
        var events: [YamuxEvent] = []
        for byte in Self.conversation { events += try session.receive([byte], now: 0) }
        #expect(events == Self.expectedEvents)
    }

    @Test func collectionsWithoutContiguousStorageAreAccepted() throws {
        var session = freshSession()
        #expect(try session.receive(Self.conversation.lazy.map { $0 }, now: 0) == Self.expectedEvents)
    }
}
