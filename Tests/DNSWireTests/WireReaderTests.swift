import DNSWire
import Testing

@Suite("WireReader: the bounds-checked cursor")
struct WireReaderTests {
    /// Runs `body` on a reader over `bytes`, returning its result or error.
    static func read<T>(
        _ bytes: [UInt8], at position: Int = 0, _ body: (inout WireReader) throws(WireError) -> T
    ) -> Result<T, WireError> {
        bytes.withUnsafeBytes { raw in
            var reader = WireReader(raw, position: position)
            do throws(WireError) {
                return .success(try body(&reader))
            } catch {
                return .failure(error)
            }
        }
    }

    @Test("Integers are read big-endian and move the cursor")
    func integersAreBigEndian() throws {
        let result = Self.read([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09]) { reader throws(WireError) in
            let values = [UInt32(try reader.readUInt8()), UInt32(try reader.readUInt16()), try reader.readUInt32()]
            return (values, reader.position, reader.remaining, reader.isAtEnd)
        }
        let (values, position, remaining, isAtEnd) = try result.get()
        #expect(values == [0x01, 0x0203, 0x0405_0607])
        #expect(position == 7)
        #expect(remaining == 2)
        #expect(!isAtEnd)
    }

    @Test("Reads past the end throw truncated with the position")
    func readsPastTheEndThrow() {
        #expect(throws: WireError.truncated(needed: 1, available: 0, at: 0)) {
            try Self.read([]) { r throws(WireError) in try r.readUInt8() }.get()
        }
        #expect(throws: WireError.truncated(needed: 2, available: 1, at: 0)) {
            try Self.read([1]) { r throws(WireError) in try r.readUInt16() }.get()
        }
        #expect(throws: WireError.truncated(needed: 4, available: 3, at: 1)) {
            try Self.read([1, 2, 3, 4], at: 1) { r throws(WireError) in try r.readUInt32() }.get()
        }
        #expect(throws: WireError.truncated(needed: 5, available: 2, at: 2)) {
            try Self.read([1, 2, 3, 4], at: 2) { r throws(WireError) in try r.readBytes(5) }.get()
        }
        #expect(throws: WireError.truncated(needed: 3, available: 2, at: 2)) {
            try Self.read([1, 2, 3, 4], at: 2) { r throws(WireError) in try r.skip(3) }.get()
        }
    }

    @Test("A failed read leaves the cursor where it was")
    func failedReadKeepsPosition() throws {
        let position = try Self.read([1, 2, 3]) { reader throws(WireError) in
            _ = try reader.readUInt16()
            _ = try? reader.readUInt32()
            return reader.position
        }.get()
        #expect(position == 2)
    }

    @Test("readName keeps letter case and leaves the cursor after the first pointer")
    func readNameCursor() throws {
        // 0: "MyWS.Coder." (12 bytes), 12: "www" + pointer to 0, 18: a trailing byte.
        let bytes = label("MyWS") + label("Coder") + [0] + label("www") + [0xC0, 0x00] + [0xEE]
        let (first, afterFirst) = try Self.read(bytes) { r throws(WireError) in (try r.readName(), r.position) }.get()
        #expect(first.wire == label("MyWS") + label("Coder") + [0])
        #expect(afterFirst == 12)
        let (second, afterSecond) = try Self.read(bytes, at: 12) { r throws(WireError) in (try r.readName(), r.position)
        }.get()
        #expect(second == name("www.MyWS.Coder."))
        #expect(afterSecond == 18)
    }

    @Test("readName(into:) reports the decompressed wire length")
    func readNameIntoReportsLength() throws {
        let bytes = label("coder") + [0] + label("myws") + [0xC0, 0x00]
        let length = try Self.read(bytes, at: 7) { r throws(WireError) in
            var result: Result<Int, WireError> = .success(0)
            withUnsafeTemporaryAllocation(byteCount: DomainName.maximumWireLength, alignment: 1) { buffer in
                do throws(WireError) { result = .success(try r.readName(into: buffer)) } catch {
                    result = .failure(error)
                }
            }
            return try result.get()
        }.get()
        #expect(length == 12)
    }

    @Test("A chain of pointers is limited by maximumPointerHops")
    func pointerHopLimit() throws {
        // 0: root; 1, 3, 5, ...: pointers, each to the previous entry.
        func chain(_ pointers: Int) -> [UInt8] {
            var bytes: [UInt8] = [0]
            for pointer in 0..<pointers {
                let target = pointer == 0 ? 0 : 1 + 2 * (pointer - 1)
                bytes += bigEndian(UInt16(0xC000 | target))
            }
            return bytes
        }
        let limit = WireReader.maximumPointerHops
        let atLimit = chain(limit)
        let name = try Self.read(atLimit, at: 1 + 2 * (limit - 1)) { r throws(WireError) in try r.readName() }.get()
        #expect(name == .root)
        let overLimit = chain(limit + 1)
        #expect(throws: WireError.tooManyPointers(at: 1)) {
            try Self.read(overLimit, at: 1 + 2 * limit) { r throws(WireError) in try r.readName() }.get()
        }
    }
}
