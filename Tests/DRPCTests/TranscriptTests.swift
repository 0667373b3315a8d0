import DRPC
import TestSupport
import Testing

/// The reference transcripts: what storj.io/drpc v0.0.33 writes, as a client and as a server.
@Suite("Reference transcripts")
struct TranscriptTests {
    /// The update upserting workspace dev with agent main (the first server message).
    static let upsertUpdate = try! Hex.bytes(
        """
        0a190a100102030405060708090a0b0c0d0e0f1012036465761803122a0a10a1b2c3d4e5f647118899aabbccddeeff
        12046d61696e1a100102030405060708090a0b0c0d0e0f10
        """)
    /// The update deleting workspace dev.
    static let deleteUpdate = try! Hex.bytes("1a190a100102030405060708090a0b0c0d0e0f1012036465761803")
    /// The large-message payload: byte i is i mod 256.
    static let largePayload = (0..<150_000).map { UInt8(truncatingIfNeeded: $0) }

    static let expectedEvents: [String: [DRPCEvent]] = [
        "snapshot-then-diff": [.message(upsertUpdate), .message(deleteUpdate), .closeSend],
        "large-message": [.message(largePayload), .closeSend],
        "handler-error": [.message(upsertUpdate), .error(code: 0, message: "subscribe failed")],
        "unknown-rpc": [.error(code: 0, message: #"protocol error: unknown rpc: "/coder.tailnet.v2.Tailnet/NoSuchMethod""#)],
    ]
    static let methods: [String: String] = [
        "snapshot-then-diff": Feeding.coderMethod,
        "large-message": Feeding.coderMethod,
        "handler-error": Feeding.coderMethod,
        "unknown-rpc": "/coder.tailnet.v2.Tailnet/NoSuchMethod",
    ]
    static let transcripts = ["snapshot-then-diff", "large-message", "handler-error", "unknown-rpc"]
    static let smallTranscripts = ["snapshot-then-diff", "handler-error", "unknown-rpc"]

    @Test("invoke writes exactly the bytes drpc's client writes", arguments: transcripts)
    func invokeMatchesTheReferenceClient(transcript: String) throws {
        var stream = DRPCClientStream(maximumMessageSize: Feeding.limit)
        let written = stream.invoke(method: Self.methods[transcript]!, request: Feeding.request)
        #expect(written == (try Fixture.clientToServer(transcript)))
    }

    @Test("the WorkspaceUpdates invocation is the 72 bytes of the protocol notes")
    func workspaceUpdatesInvocationIs72Bytes() {
        var stream = DRPCClientStream(maximumMessageSize: DRPCClientStream.coderMaximumMessageSize)
        let written = stream.invoke(method: Feeding.coderMethod, request: Feeding.request)
        #expect(written.count == 72)
        #expect(Array(written.prefix(4)) == [0x03, 0x01, 0x01, 0x2a])
        #expect(Array(written[46..<50]) == [0x05, 0x01, 0x02, 0x12])
        #expect(Array(written.suffix(4)) == [0x0d, 0x01, 0x03, 0x00])
    }

    @Test("the server's transcript gives the expected events", arguments: transcripts)
    func serverTranscriptGivesExpectedEvents(transcript: String) throws {
        let events = try Feeding.events(try Fixture.serverToClient(transcript))
        #expect(events == Self.expectedEvents[transcript])
    }

    @Test("the large message is reassembled from three frames, done only on the last")
    func largeMessageIsReassembledFromThreeFrames() throws {
        let bytes = try Fixture.serverToClient("large-message")
        var index = 0
        var frames: [DRPCFrame] = []
        while let frame = try DRPCFrame.parse(from: bytes, at: &index) {
            frames.append(frame)
        }
        #expect(frames.map(\.data.count) == [65_536, 65_536, 18_928, 0])
        #expect(frames.map(\.isDone) == [false, false, true, true])
        #expect(frames.map(\.kind) == [.message, .message, .message, .closeSend])
        #expect(try Feeding.events(bytes).first == .message(Self.largePayload))
    }

    @Test("splitting a small transcript at any byte gives the same events", arguments: smallTranscripts)
    func splitAtEveryByteGivesTheSameEvents(transcript: String) throws {
        let bytes = try Fixture.serverToClient(transcript)
        let expected = Self.expectedEvents[transcript]
        for cut in 0...bytes.count {
            #expect(try Feeding.events(bytes, cuts: [cut]) == expected, "cut at \(cut)")
        }
        #expect(try Feeding.eventsByteByByte(bytes) == expected)
    }

    @Test("splitting the large transcript at random places gives the same events")
    func randomSplitsOfTheLargeTranscriptGiveTheSameEvents() throws {
        let bytes = try Fixture.serverToClient("large-message")
        let expected = Self.expectedEvents["large-message"]
        for seed in UInt64(1)...40 {
            var generator = SeededGenerator(seed: seed)
            let maximumChunk = [3, 100, 4096, 70_000, 300_000][Int(seed % 5)]
            let cuts = Feeding.randomCuts(count: bytes.count, maximumChunk: maximumChunk, using: &generator)
            #expect(try Feeding.events(bytes, cuts: cuts) == expected, "seed \(seed)")
        }
        // Every frame boundary and its neighbours, where an off-by-one would show.
        for boundary in [6, 65_542, 65_548, 131_084, 131_090, 150_018] {
            for cut in (boundary - 3)...min(boundary + 3, bytes.count) {
                #expect(try Feeding.events(bytes, cuts: [cut]) == expected, "cut at \(cut)")
            }
        }
    }

    @Test("the large transcript fed one byte at a time gives the same events")
    func largeTranscriptByteByByte() throws {
        let bytes = try Fixture.serverToClient("large-message")
        #expect(try Feeding.eventsByteByByte(bytes) == Self.expectedEvents["large-message"])
    }

    @Test("bytes from a collection without contiguous storage are read the same way")
    func nonContiguousCollectionsAreAccepted() throws {
        let bytes = try Fixture.serverToClient("snapshot-then-diff")
        var stream = DRPCClientStream(maximumMessageSize: Feeding.limit)
        let events = try stream.receive(bytes.lazy.map { $0 })
        #expect(events == Self.expectedEvents["snapshot-then-diff"])
    }
}
