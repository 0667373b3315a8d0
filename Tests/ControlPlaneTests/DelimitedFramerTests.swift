import ControlPlane
import Testing

@Suite("Delimited framing")
struct DelimitedFramerTests {
    @Test func messagesComeOutWhateverTheReadSizes() throws {
        let messages: [[UInt8]] = [[], [1], Array(repeating: 7, count: 127), Array(repeating: 9, count: 128), Array(repeating: 3, count: 70_000)]
        let stream = messages.flatMap(DelimitedFramer.frame)
        for pieceSize in [1, 2, 3, 100, 100_000] {
            var framer = DelimitedFramer()
            var out: [[UInt8]] = []
            for start in stride(from: 0, to: stream.count, by: pieceSize) {
                framer.append(stream[start..<min(start + pieceSize, stream.count)])
                while let message = try framer.nextMessage() { out.append(message) }
            }
            #expect(out == messages, "piece size \(pieceSize)")
            #expect(framer.bufferedCount == 0)
        }
    }

    @Test func lengthsAreVarints() {
        #expect(DelimitedFramer.frame([]).first == 0)
        #expect(Array(DelimitedFramer.frame(Array(repeating: 0, count: 300)).prefix(2)) == [0xAC, 0x02])
    }

    @Test func aLengthOverTheCapIsRefused() {
        var framer = DelimitedFramer(maximumMessageLength: 1000)
        framer.append(DelimitedFramer.frame(Array(repeating: 1, count: 1001)).prefix(3))
        #expect(throws: DelimitedFramer.FramingError.tooLong(length: 1001, maximum: 1000)) { try framer.nextMessage() }
    }

    @Test func anEndlessVarintIsRefused() {
        var framer = DelimitedFramer()
        framer.append(Array(repeating: 0xFF, count: 11))
        #expect(throws: DelimitedFramer.FramingError.self) { try framer.nextMessage() }
    }
}
