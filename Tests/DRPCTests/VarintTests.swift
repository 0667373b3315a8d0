import DRPC
import Testing

@Suite("Varints")
struct VarintTests {
    static let cases: [(UInt64, [UInt8])] = [
        (0, [0x00]),
        (1, [0x01]),
        (127, [0x7f]),
        (128, [0x80, 0x01]),
        (300, [0xac, 0x02]),
        (16_383, [0xff, 0x7f]),
        (16_384, [0x80, 0x80, 0x01]),
        (65_536, [0x80, 0x80, 0x04]),
        (1 << 63, [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]),
        (.max, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
    ]

    @Test("a value encodes to its known bytes and decodes back", arguments: cases)
    func encodesAndDecodes(value: UInt64, encoded: [UInt8]) throws {
        var bytes: [UInt8] = []
        DRPCVarint.append(value, to: &bytes)
        #expect(bytes == encoded)
        var index = 0
        #expect(try DRPCVarint.read(from: encoded + [0xaa], at: &index) == value)
        #expect(index == encoded.count)
    }

    @Test("a varint cut short reads as incomplete and leaves the index alone", arguments: cases)
    func truncatedVarintIsIncomplete(value: UInt64, encoded: [UInt8]) throws {
        for length in 0..<encoded.count {
            var index = 0
            #expect(try DRPCVarint.read(from: Array(encoded.prefix(length)), at: &index) == nil)
            #expect(index == 0)
        }
    }

    @Test("an 11-byte varint is an overflow error")
    func elevenByteVarintOverflows() {
        var index = 0
        let bytes = [UInt8](repeating: 0x80, count: 10) + [0x01]
        #expect(throws: DRPCError.varintOverflow(field: "varint")) {
            try DRPCVarint.read(from: bytes, at: &index)
        }
    }

    @Test("a 10th byte carrying bits past 64 is an overflow error")
    func tenthByteAboveOneOverflows() {
        var index = 0
        let bytes = [UInt8](repeating: 0xff, count: 9) + [0x02]
        #expect(throws: DRPCError.varintOverflow(field: "varint")) {
            try DRPCVarint.read(from: bytes, at: &index)
        }
    }

    @Test("an over-long varint in a frame header is an error naming the field")
    func overlongVarintInAFrameHeaderNamesTheField() {
        let bytes: [UInt8] = [0x05, 0x01] + [UInt8](repeating: 0x80, count: 11)
        #expect(throws: DRPCError.varintOverflow(field: "message id")) {
            try Feeding.events(bytes)
        }
    }
}
