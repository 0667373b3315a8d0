import DRPC
import Testing

/// How a client stream turns packets on its stream into events.
@Suite("Client stream events")
struct ClientStreamTests {
    @Test("an unknown kind with the control bit is ignored")
    func unknownControlKindIsIgnored() throws {
        let bytes =
            Feeding.frame(DRPCKind(rawValue: 20), message: 1, control: true, data: [9, 9])
            + Feeding.frame(.message, message: 2, data: [1])
        #expect(try Feeding.events(bytes) == [.message([1])])
    }

    @Test("an unknown kind without the control bit is an error")
    func unknownNonControlKindIsAnError() {
        #expect(throws: DRPCError.unknownKind(20)) {
            try Feeding.events(Feeding.frame(DRPCKind(rawValue: 20), message: 1))
        }
        #expect(throws: DRPCError.unknownKind(0)) {
            try Feeding.events(Feeding.frame(DRPCKind(rawValue: 0), message: 1))
        }
    }

    @Test("an unfinished packet of unknown kind dropped by a new id is no error, as in drpc")
    func droppedUnknownPacketIsNoError() throws {
        let bytes = Feeding.frame(DRPCKind(rawValue: 20), message: 1, done: false) + Feeding.frame(.message, message: 2, data: [1])
        #expect(try Feeding.events(bytes) == [.message([1])])
    }

    @Test("Cancel from the server is ignored")
    func cancelIsIgnored() throws {
        let bytes =
            Feeding.frame(.message, message: 1, data: [1]) + Feeding.frame(.cancel, message: 2, control: true)
            + Feeding.frame(.message, message: 3, data: [2])
        #expect(try Feeding.events(bytes) == [.message([1]), .message([2])])
    }

    @Test("Invoke from the server is an unexpected kind")
    func invokeFromTheServerIsAnError() {
        #expect(throws: DRPCError.unexpectedKind(.invoke, id: DRPCPacketID(streamID: 1, messageID: 1))) {
            try Feeding.events(Feeding.frame(.invoke, message: 1, data: Array("/x".utf8)))
        }
    }

    @Test("packets for another stream are ignored")
    func otherStreamsAreIgnored() throws {
        var stream = DRPCClientStream(streamID: 2, maximumMessageSize: 64)
        let bytes =
            Feeding.frame(.message, stream: 1, message: 1, data: [1]) + Feeding.frame(.close, stream: 1, message: 2)
            + Feeding.frame(.message, stream: 2, message: 1, data: [2])
        #expect(try stream.receive(bytes) == [.message([2])])
    }

    @Test("Close ends the stream and whatever follows is ignored, in one call or many")
    func closeEndsTheStream() throws {
        let bytes = Feeding.frame(.message, message: 1, data: [1]) + Feeding.frame(.close, message: 2) + [0xff, 0xff, 0xff, 0xff, 0xff]
        #expect(try Feeding.events(bytes) == [.message([1]), .closed])
        #expect(try Feeding.eventsByteByByte(bytes) == [.message([1]), .closed])
        var stream = DRPCClientStream(maximumMessageSize: 64)
        _ = try stream.receive(bytes)
        #expect(stream.isTerminated)
    }

    @Test("an Error ends the stream, CloseSend does not")
    func errorEndsTheStreamCloseSendDoesNot() throws {
        let afterCloseSend = Feeding.frame(.closeSend, message: 1) + Feeding.frame(.close, message: 2)
        #expect(try Feeding.events(afterCloseSend) == [.closeSend, .closed])
        let afterError =
            Feeding.frame(.error, message: 1, data: [0, 0, 0, 0, 0, 0, 0, 12] + Array("nope".utf8))
            + Feeding.frame(.message, message: 2, data: [1])
        #expect(try Feeding.events(afterError) == [.error(code: 12, message: "nope")])
    }

    @Test("an error code is read big-endian")
    func errorCodeIsBigEndian() throws {
        let data: [UInt8] = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08] + Array("x".utf8)
        #expect(try Feeding.events(Feeding.frame(.error, message: 1, data: data)) == [.error(code: 0x0102_0304_0506_0708, message: "x")])
    }

    @Test("error data shorter than a code becomes the text, as drpc reads it")
    func shortErrorDataIsText() throws {
        #expect(
            try Feeding.events(Feeding.frame(.error, message: 1, data: Array("bad".utf8)))
                == [.error(code: 0, message: "bad (drpcwire note: invalid error data)")])
    }

    @Test("close writes a Close frame with the next message id")
    func closeWritesACloseFrame() {
        var stream = DRPCClientStream(maximumMessageSize: 64)
        _ = stream.invoke(method: Feeding.coderMethod, request: Feeding.request)
        #expect(stream.close() == [0x0b, 0x01, 0x04, 0x00])
    }

    @Test("error descriptions start with drpc:")
    func errorDescriptionsStartWithDRPC() {
        let id = DRPCPacketID(streamID: 1, messageID: 2)
        let errors: [DRPCError] = [
            .varintOverflow(field: "stream id"), .packetTooLarge(limit: 1, size: 2),
            .idMonotonicityViolation(expected: id, received: id), .packetKindChange(id: id, from: .message, to: .error),
            .unknownKind(9), .unexpectedKind(.invoke, id: id),
        ]
        for error in errors {
            #expect(error.description.hasPrefix("drpc: "))
        }
    }
}
