import Testing
import Yamux

/// The exact bytes the session writes, checked against coderd-protocol.md section 8 L3.
@Suite("Session output bytes")
struct YamuxSessionOutputTests {
    @Test func openingAStreamSendsWindowUpdateSynForStreamOne() {
        var session = YamuxSession(now: 0)
        #expect(session.openStream() == 1)
        #expect(
            session.takeOutput() == [
                0x00,  // version 0
                0x01,  // type: WindowUpdate
                0x00, 0x01,  // flags: SYN
                0x00, 0x00, 0x00, 0x01,  // stream id 1
                0x00, 0x00, 0x00, 0x00,  // delta 0
            ])
        #expect(session.takeOutput().isEmpty)
    }

    @Test func streamIDsAreOddAndCountUp() {
        var session = YamuxSession(now: 0)
        #expect([session.openStream(), session.openStream(), session.openStream()] == [1, 3, 5])
    }

    @Test func closingAStreamSendsWindowUpdateFin() throws {
        var session = try establishedSession()
        session.closeStream(1)
        #expect(
            session.takeOutput() == [
                0x00,  // version 0
                0x01,  // type: WindowUpdate
                0x00, 0x04,  // flags: FIN
                0x00, 0x00, 0x00, 0x01,  // stream id 1
                0x00, 0x00, 0x00, 0x00,  // delta 0
            ])
    }

    @Test func resettingAStreamSendsWindowUpdateRst() throws {
        var session = try establishedSession()
        session.resetStream(1)
        #expect(
            session.takeOutput() == [
                0x00,  // version 0
                0x01,  // type: WindowUpdate
                0x00, 0x08,  // flags: RST
                0x00, 0x00, 0x00, 0x01,  // stream id 1
                0x00, 0x00, 0x00, 0x00,  // delta 0
            ])
        #expect(!session.isOpen(streamID: 1))
    }

    @Test func aPingIsAnsweredWithTheSameOpaqueValue() throws {
        var session = YamuxSession(now: 0)
        let ping: [UInt8] = [
            0x00,  // version 0
            0x02,  // type: Ping
            0x00, 0x01,  // flags: SYN
            0x00, 0x00, 0x00, 0x00,  // stream id 0: the session
            0xDE, 0xAD, 0xBE, 0xEF,  // opaque value
        ]
        #expect(try session.receive(ping, now: 1).isEmpty)
        #expect(
            session.takeOutput() == [
                0x00,  // version 0
                0x02,  // type: Ping
                0x00, 0x02,  // flags: ACK
                0x00, 0x00, 0x00, 0x00,  // stream id 0
                0xDE, 0xAD, 0xBE, 0xEF,  // the same opaque value
            ])
    }

    @Test func aWindowUpdateGoesOutOnceHalfTheWindowIsDelivered() throws {
        var session = try establishedSession()
        let justUnderHalf = dataFrame(stream: 1, payload: [UInt8](repeating: 7, count: 131_071))
        _ = try session.receive(justUnderHalf, now: 0)
        #expect(session.takeOutput().isEmpty, "Go skips updates under half the window")
        _ = try session.receive(dataFrame(stream: 1, payload: [7]), now: 0)
        #expect(
            session.takeOutput() == [
                0x00,  // version 0
                0x01,  // type: WindowUpdate
                0x00, 0x00,  // flags: none
                0x00, 0x00, 0x00, 0x01,  // stream id 1
                0x00, 0x02, 0x00, 0x00,  // delta 131072: everything delivered since the last update
            ])
    }

    @Test func sentDataFollowsTheSynWithoutFlags() throws {
        var session = YamuxSession(now: 0)
        let stream = session.openStream()
        try session.send([0x0D, 0x01, 0x03, 0x00], streamID: stream)
        #expect(
            session.takeOutput() == [
                0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,  // WindowUpdate|SYN stream 1
                0x00,  // version 0
                0x00,  // type: Data
                0x00, 0x00,  // flags: none
                0x00, 0x00, 0x00, 0x01,  // stream id 1
                0x00, 0x00, 0x00, 0x04,  // length 4
                0x0D, 0x01, 0x03, 0x00,  // payload
            ])
    }

    @Test func goAwayCarriesItsCodeOnTheSessionStream() {
        var session = YamuxSession(now: 0)
        session.goAway(code: YamuxGoAwayCode.normal)
        #expect(
            session.takeOutput() == [
                0x00,  // version 0
                0x03,  // type: GoAway
                0x00, 0x00,  // flags: none
                0x00, 0x00, 0x00, 0x00,  // stream id 0
                0x00, 0x00, 0x00, 0x00,  // code 0: normal
            ])
    }
}
