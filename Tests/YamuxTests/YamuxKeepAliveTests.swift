import Testing
import Yamux

@Suite("Keepalive")
struct YamuxKeepAliveTests {
    @Test func aPingGoesOutOnceTheIntervalHasPassed() throws {
        var session = YamuxSession(now: 100)
        #expect(session.nextDeadline == 130)
        try session.tick(now: 129.9)
        #expect(session.takeOutput().isEmpty)
        try session.tick(now: 130)
        #expect(
            session.takeOutput() == [
                0x00,  // version 0
                0x02,  // type: Ping
                0x00, 0x01,  // flags: SYN
                0x00, 0x00, 0x00, 0x00,  // stream id 0
                0x00, 0x00, 0x00, 0x00,  // opaque value: the first ping id
            ])
        #expect(session.nextDeadline == 140, "now the ping's timeout")
    }

    @Test func anAnsweredPingReportsItsRoundTripAndSchedulesTheNext() throws {
        var session = YamuxSession(now: 0)
        try session.tick(now: 30)
        let ping = try #require(try headers(in: session.takeOutput()).first)
        let events = try session.receive(frame(.ping, .acknowledge, stream: 0, length: ping.length), now: 30.25)
        #expect(events == [.pingAnswered(roundTrip: 0.25)])
        #expect(session.nextDeadline == 60.25)
        try session.tick(now: 45)
        #expect(session.takeOutput().isEmpty)
        try session.tick(now: 60.25)
        #expect(try headers(in: session.takeOutput()) == [YamuxFrameHeader(type: .ping, flags: .synchronize, streamID: 0, length: 1)])
    }

    @Test func anAnswerWithTheWrongValueIsIgnored() throws {
        var session = YamuxSession(now: 0)
        try session.tick(now: 30)
        #expect(try session.receive(frame(.ping, .acknowledge, stream: 0, length: 77), now: 31).isEmpty)
        #expect(session.nextDeadline == 40)
    }

    @Test func anUnansweredPingTimesOutTheSession() throws {
        var session = YamuxSession(now: 0)
        try session.tick(now: 30)
        try session.tick(now: 39.9)
        #expect(throws: YamuxError.keepAliveTimeout(seconds: 10)) { try session.tick(now: 40) }
        #expect(throws: YamuxError.keepAliveTimeout(seconds: 10)) { try session.receive([], now: 41) }
    }

    @Test func anIntervalOfZeroTurnsKeepAliveOff() throws {
        var configuration = YamuxConfiguration()
        configuration.keepAliveInterval = 0
        var session = YamuxSession(configuration: configuration, now: 0)
        #expect(session.nextDeadline == .infinity)
        try session.tick(now: 1_000_000)
        #expect(session.takeOutput().isEmpty)
    }

    @Test func answeringThePeersPingDoesNotCountAsOurs() throws {
        var session = YamuxSession(now: 0)
        _ = try session.receive(frame(.ping, .synchronize, stream: 0, length: 5), now: 20)
        #expect(session.nextDeadline == 30)
    }
}
