import Responder
import Testing

@Suite("TCP framing")
struct TCPFramerTests {
    static func framed(_ messages: [[UInt8]]) -> [UInt8] {
        messages.flatMap { [UInt8($0.count >> 8), UInt8($0.count & 0xFF)] + $0 }
    }

    static let messages: [[UInt8]] = [Array(1...20), Array(repeating: 7, count: 300), [], Array(0...255) + Array(0...255)]

    func feed(_ pieces: [[UInt8]]) -> (messages: [[UInt8]], pending: Int) {
        var framer = TCPFramer()
        var out: [[UInt8]] = []
        for piece in pieces {
            piece.withUnsafeBytes { framer.receive($0) { out.append(Array($0)) } }
        }
        return (out, framer.pendingCount)
    }

    @Test func pipelinedMessagesInOneReadAllComeOut() {
        let result = feed([Self.framed(Self.messages)])
        #expect(result.messages == Self.messages)
        #expect(result.pending == 0)
    }

    @Test func aLengthPrefixSplitAcrossReadsIsReassembled() {
        let stream = Self.framed([Array(1...20)])
        let result = feed([[stream[0]], Array(stream[1...])])
        #expect(result.messages == [Array(1...20)])
    }

    @Test("any split of the stream gives the same messages", arguments: [1, 2, 3, 7, 64, 1000])
    func anySplit(pieceSize: Int) {
        let stream = Self.framed(Self.messages)
        let pieces = stride(from: 0, to: stream.count, by: pieceSize).map { Array(stream[$0..<min($0 + pieceSize, stream.count)]) }
        let result = feed(pieces)
        #expect(result.messages == Self.messages)
        #expect(result.pending == 0)
    }

    @Test func anIncompleteMessageWaits() {
        let stream = Self.framed([Array(1...20)])
        let result = feed([Array(stream.prefix(10))])
        #expect(result.messages.isEmpty)
        #expect(result.pending == 10)
    }
}
