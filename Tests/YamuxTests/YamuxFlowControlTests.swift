import Testing
import Yamux

@Suite("Flow control")
struct YamuxFlowControlTests {
    static let fourMegabytes = (0..<4_194_304).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 11) }

    @Test func aFourMegabyteStreamCompletesAgainstAGoSenderThatRespectsTheWindow() throws {
        var session = try establishedSession()
        var sender = GoSenderModel(streamID: 1, frameSize: 262_144, content: Self.fourMegabytes)
        var received: [UInt8] = []
        received.reserveCapacity(Self.fourMegabytes.count)
        while let nextFrame = sender.nextFrame() {
            for event in try session.receive(nextFrame, now: 0) {
                guard case .data(1, let bytes) = event else { Issue.record("unexpected \(event)"); continue }
                received += bytes
            }
            try sender.read(session.takeOutput())
        }
        #expect(sender.isFinished)
        #expect(received == Self.fourMegabytes)
        #expect(sender.windowUpdatesReceived == 16, "one 256 KiB update per 256 KiB frame")
    }

    @Test func withoutWindowUpdatesTheGoSenderStallsAfterOneWindow() throws {
        var session = try establishedSession()
        var sender = GoSenderModel(streamID: 1, frameSize: 65_536, content: Self.fourMegabytes)
        var deliveredCount = 0
        while let nextFrame = sender.nextFrame() {
            for case .data(_, let bytes) in try session.receive(nextFrame, now: 0) { deliveredCount += bytes.count }
            _ = session.takeOutput()  // a client that never writes its WindowUpdates
        }
        #expect(sender.isStalled)
        #expect(deliveredCount == 262_144)
    }

    @Test func theGoSenderModelSplitsFramesByWindowAndGrowsByDeltas() throws {
        var sender = GoSenderModel(streamID: 1, frameSize: 200_000, content: [UInt8](repeating: 0, count: 300_000))
        #expect(try headers(in: sender.nextFrame()!).first?.length == 200_000)
        #expect(try headers(in: sender.nextFrame()!).first?.length == 62_144, "capped by what is left of the window")
        #expect(sender.nextFrame() == nil)
        #expect(sender.isStalled)
        try sender.read(frame(.windowUpdate, stream: 1, length: 1_000))
        #expect(try headers(in: sender.nextFrame()!).first?.length == 1_000)
    }

    @Test func sendingStopsAtThePeersWindowAndResumesAfterItsWindowUpdate() throws {
        var session = try establishedSession()
        let payload = (0..<300_000).map { UInt8(truncatingIfNeeded: $0) }
        try session.send(payload, streamID: 1)
        var written = session.takeOutput()
        #expect(try headers(in: written) == [YamuxFrameHeader(type: .data, streamID: 1, length: 262_144)])
        #expect(session.unsentByteCount(streamID: 1) == 300_000 - 262_144)

        _ = try session.receive(frame(.windowUpdate, stream: 1, length: 10_000), now: 0)
        written += session.takeOutput()
        _ = try session.receive(frame(.windowUpdate, stream: 1, length: 100_000), now: 0)
        written += session.takeOutput()
        #expect(
            try headers(in: written) == [
                YamuxFrameHeader(type: .data, streamID: 1, length: 262_144),
                YamuxFrameHeader(type: .data, streamID: 1, length: 10_000),
                YamuxFrameHeader(type: .data, streamID: 1, length: 27_856),
            ])
        #expect(session.unsentByteCount(streamID: 1) == 0)
        let sentPayload = Array(written[12..<262_156]) + Array(written[262_168..<272_168]) + Array(written[272_180...])
        #expect(sentPayload == payload)
    }

    @Test func aFinRequestedWhileDataWaitsGoesOutAfterTheData() throws {
        var session = try establishedSession()
        try session.send([UInt8](repeating: 1, count: 262_145), streamID: 1)
        session.closeStream(1)
        #expect(try headers(in: session.takeOutput()).map(\.type) == [.data])
        _ = try session.receive(frame(.windowUpdate, stream: 1, length: 5), now: 0)
        #expect(
            try headers(in: session.takeOutput()) == [
                YamuxFrameHeader(type: .data, streamID: 1, length: 1),
                YamuxFrameHeader(type: .windowUpdate, flags: .finish, streamID: 1, length: 0),
            ])
    }

    @Test func dataBeyondTheReceiveWindowIsAProtocolError() throws {
        var session = try establishedSession()
        _ = try session.receive(dataFrame(stream: 1, payload: [UInt8](repeating: 0, count: 100_000)), now: 0)
        let overrun = frame(.data, stream: 1, length: 162_145)  // one byte more than the 162_144 left
        #expect(throws: YamuxError.receiveWindowExceeded(streamID: 1, window: 162_144, received: 162_145)) {
            try session.receive(overrun, now: 0)
        }
        #expect(
            try headers(in: session.takeOutput()).last
                == YamuxFrameHeader(type: .goAway, streamID: 0, length: YamuxGoAwayCode.protocolError))
        #expect(throws: YamuxError.receiveWindowExceeded(streamID: 1, window: 162_144, received: 162_145)) {
            try session.receive([], now: 0)
        }
    }

    @Test func noWindowIsGrantedAfterThePeerFinished() throws {
        var session = try establishedSession()
        let events = try session.receive(dataFrame(.finish, stream: 1, payload: [UInt8](repeating: 0, count: 200_000)), now: 0)
        #expect(events.count == 2)
        #expect(session.takeOutput().isEmpty)
    }
}
