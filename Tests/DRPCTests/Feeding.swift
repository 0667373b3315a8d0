import DRPC
import TestSupport

/// Ways of handing a transcript to a fresh client stream, for tests that compare them.
enum Feeding {
    static let coderMethod = "/coder.tailnet.v2.Tailnet/WorkspaceUpdates"
    /// A `WorkspaceUpdatesRequest` for owner 497f6eca-6276-4993-bfeb-53cbbbba6f08: field 1, bytes, 16 long.
    static let request: [UInt8] = [0x0a, 0x10, 0x49, 0x7f, 0x6e, 0xca, 0x62, 0x76, 0x49, 0x93, 0xbf, 0xeb, 0x53, 0xcb, 0xbb, 0xba, 0x6f, 0x08]
    static let limit = 64 << 20

    /// Feeds `bytes` to a new stream in chunks ending at `cuts` (increasing offsets).
    static func events(_ bytes: [UInt8], cuts: [Int] = [], maximumMessageSize: Int = limit) throws(DRPCError) -> [DRPCEvent] {
        var stream = DRPCClientStream(maximumMessageSize: maximumMessageSize)
        var events: [DRPCEvent] = []
        var start = 0
        for end in cuts + [bytes.count] {
            events += try stream.receive(bytes[start..<end])
            start = end
        }
        return events
    }

    /// Feeds `bytes` one byte a call.
    static func eventsByteByByte(_ bytes: [UInt8]) throws(DRPCError) -> [DRPCEvent] {
        var stream = DRPCClientStream(maximumMessageSize: limit)
        var events: [DRPCEvent] = []
        for byte in bytes {
            events += try stream.receive(CollectionOfOne(byte))
        }
        return events
    }

    /// Cuts at random places, chunks between 1 and `maximumChunk` bytes long.
    static func randomCuts(count: Int, maximumChunk: Int, using generator: inout SeededGenerator) -> [Int] {
        var cuts: [Int] = []
        var offset = 0
        while true {
            offset += 1 + generator.below(maximumChunk)
            guard offset < count else { return cuts }
            cuts.append(offset)
        }
    }

    /// Bytes of one frame, written by hand in tests: `DRPCFrame(...).write`.
    static func frame(
        _ kind: DRPCKind, stream: UInt64 = 1, message: UInt64, done: Bool = true, control: Bool = false, data: [UInt8] = []
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        DRPCFrame(kind: kind, isDone: done, isControl: control, streamID: stream, messageID: message, data: data).write(to: &bytes)
        return bytes
    }
}
