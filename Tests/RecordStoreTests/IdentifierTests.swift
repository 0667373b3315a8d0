import RecordStore
import Testing

@Suite("Identifiers and addresses")
struct IdentifierTests {
    @Test func aUUIDParsesInEitherCaseAndPrintsLowerCase() throws {
        let lower = try #require(Identifier(string: "a1b2c3d4-e5f6-4711-8899-aabbccddeeff"))
        let upper = try #require(Identifier(string: "A1B2C3D4-E5F6-4711-8899-AABBCCDDEEFF"))
        #expect(lower == upper)
        #expect(upper.description == "a1b2c3d4-e5f6-4711-8899-aabbccddeeff")
        #expect(lower.bytes == [0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x47, 0x11, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff])
        #expect(Identifier(bytes: lower.bytes) == lower)
    }

    @Test(
        "malformed UUIDs are rejected",
        arguments: [
            "", "a1b2c3d4e5f647118899aabbccddeeff", "a1b2c3d4-e5f6-4711-8899-aabbccddeef", "a1b2c3d4-e5f6-4711-8899-aabbccddeeffa",
            "g1b2c3d4-e5f6-4711-8899-aabbccddeeff", "a1b2c3d4_e5f6-4711-8899-aabbccddeeff", "{a1b2c3d4-e5f6-4711-8899-aabbccddee}",
        ])
    func malformed(text: String) {
        #expect(Identifier(string: text) == nil)
    }

    @Test func everyByteThatIsNotAHexDigitIsRejectedInEveryDigitPosition() {
        let valid = Array("a1b2c3d4-e5f6-4711-8899-aabbccddeeff".utf8)
        let hexDigits = Set("0123456789abcdefABCDEF".utf8)
        for position in valid.indices where ![8, 13, 18, 23].contains(position) {
            for byte in UInt8.min...UInt8.max where byte < 0x80 {
                var text = valid
                text[position] = byte
                let parsed = Identifier(string: String(decoding: text, as: UTF8.self))
                #expect((parsed != nil) == hexDigits.contains(byte), "byte \(byte) at \(position)")
                if let parsed, hexDigits.contains(byte) {
                    // The digit lands in its own nibble.
                    let nibble = Int(String(UnicodeScalar(byte)), radix: 16)!
                    let digitIndex = position - [8, 13, 18, 23].filter { $0 < position }.count
                    let half = digitIndex < 16 ? parsed.high : parsed.low
                    #expect(Int((half >> UInt64(4 * (15 - digitIndex % 16))) & 0xF) == nibble)
                }
            }
        }
    }

    @Test func rawBytesMustBeSixteen() {
        #expect(Identifier(bytes: [UInt8](repeating: 1, count: 15)) == nil)
        #expect(Identifier(bytes: [UInt8](repeating: 1, count: 17)) == nil)
        #expect(Identifier(bytes: [UInt8](repeating: 1, count: 16)) != nil)
    }

    /// The example from the Coder Connect facts.
    @Test func anAgentAddressIsThePrefixThenBytesSixToFifteenOfItsUUID() throws {
        let agent = try #require(Identifier(string: "01020304-0506-0708-090a-0b0c0d0e0f10"))
        let address = ServiceAddress.agent(agent)
        #expect(address.description == "fd60:627a:a42b:708:90a:b0c:d0e:f10")
        #expect(address.bytes == [0xfd, 0x60, 0x62, 0x7a, 0xa4, 0x2b, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10])
        #expect(ServiceAddress.contains(address))
        #expect(ServiceAddress.resolver.description == "fd60:627a:a42b:0:0:0:0:53")
    }
}
