import Testing
import Yamux

@Suite("Frame header")
struct YamuxFrameHeaderTests {
    @Test(arguments: YamuxFrameType.allCases)
    func everyTypeSurvivesWritingAndParsing(type: YamuxFrameType) throws {
        for flags: YamuxFrameFlags in [[], .synchronize, .acknowledge, .finish, .reset, [.acknowledge, .finish], YamuxFrameFlags(rawValue: 0xFFFF)] {
            let header = YamuxFrameHeader(type: type, flags: flags, streamID: 0x8000_0001, length: 0xFEDC_BA98)
            var bytes: [UInt8] = []
            header.write(to: &bytes)
            #expect(bytes.count == YamuxFrameHeader.length)
            #expect(try YamuxFrameHeader(bytes: bytes) == header)
        }
    }

    @Test func fieldsAreBigEndianInWireOrder() throws {
        let bytes: [UInt8] = [
            0x00,  // version 0
            0x01,  // type: WindowUpdate
            0x00, 0x05,  // flags: SYN | FIN
            0x01, 0x02, 0x03, 0x04,  // stream id 0x01020304
            0x00, 0x02, 0x00, 0x00,  // length (window delta) 131072
        ]
        let header = try YamuxFrameHeader(bytes: bytes)
        #expect(header.type == .windowUpdate)
        #expect(header.flags == [.synchronize, .finish])
        #expect(header.streamID == 0x0102_0304)
        #expect(header.length == 131_072)
        var written: [UInt8] = []
        header.write(to: &written)
        #expect(written == bytes)
    }

    @Test func aVersionOtherThanZeroIsRefused() {
        let bytes: [UInt8] = [
            0x01,  // version 1: not yamux
            0x00,  // type: Data
            0x00, 0x00,  // flags: none
            0x00, 0x00, 0x00, 0x01,  // stream id 1
            0x00, 0x00, 0x00, 0x00,  // length 0
        ]
        #expect(throws: YamuxError.invalidVersion(1)) { try YamuxFrameHeader(bytes: bytes) }
    }

    @Test func aTypeAboveGoAwayIsRefused() {
        let bytes: [UInt8] = [
            0x00,  // version 0
            0x04,  // type 4: undefined
            0x00, 0x00,  // flags: none
            0x00, 0x00, 0x00, 0x00,  // stream id 0
            0x00, 0x00, 0x00, 0x00,  // length 0
        ]
        #expect(throws: YamuxError.unknownFrameType(4)) { try YamuxFrameHeader(bytes: bytes) }
    }

    @Test func fewerThanTwelveBytesAreRefused() {
        #expect(throws: YamuxError.truncatedHeader(available: 5)) { try YamuxFrameHeader(bytes: [0, 0, 0, 0, 0]) }
    }

    @Test func errorsSayWhatHappenedInWords() {
        let errors: [YamuxError] = [
            .invalidVersion(1), .unknownFrameType(9), .truncatedHeader(available: 3),
            .receiveWindowExceeded(streamID: 1, window: 10, received: 20), .duplicateStream(streamID: 1),
            .keepAliveTimeout(seconds: 10), .streamClosed(streamID: 1), .unknownStream(streamID: 2),
        ]
        for error in errors {
            #expect(error.description.hasPrefix("yamux: "))
        }
    }
}
