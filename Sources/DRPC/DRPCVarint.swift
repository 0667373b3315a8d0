/// The unsigned varints of DRPC frame headers: protobuf-style base-128, least significant group
/// first, high bit set on every byte but the last (`drpcwire/varint.go`).
public enum DRPCVarint {
    /// A 64-bit value needs at most 10 groups of 7 bits; drpc rejects an 11th byte as "varint too
    /// long".
    public static let maximumEncodedSize = 10

    /// Appends the shortest encoding of `value`, as drpc's `AppendVarint` does.
    public static func append(_ value: UInt64, to bytes: inout [UInt8]) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    /// Reads a varint starting at `index`, advancing `index` past it. Returns nil, leaving `index`
    /// alone, when the bytes end before the varint does.
    public static func read(
        from bytes: [UInt8], at index: inout Int, field: String = "varint"
    ) throws(DRPCError) -> UInt64? {
        var decoder = Decoder(field: field)
        var position = index
        while position < bytes.count {
            let value = try decoder.consume(bytes[position])
            position += 1
            if let value {
                index = position
                return value
            }
        }
        return nil
    }

    /// Decodes one varint a byte at a time, so a frame header may be split anywhere between two
    /// `receive` calls without buffering it.
    struct Decoder {
        /// The header field being read, for the error.
        let field: String
        private var value: UInt64 = 0
        private var shift: UInt64 = 0

        init(field: String) {
            self.field = field
        }

        /// Takes the next byte; returns the value once its last byte has arrived.
        ///
        /// Stricter than drpc in one corner: Go silently drops the bits of a 10th byte above bit 0,
        /// this throws instead. Only a broken peer writes such a byte.
        mutating func consume(_ byte: UInt8) throws(DRPCError) -> UInt64? {
            let group = UInt64(byte & 0x7F)
            if shift == 63 && (byte & 0x80 != 0 || group > 1) {
                throw .varintOverflow(field: field)
            }
            value |= group << shift
            if byte & 0x80 == 0 {
                let result = value
                value = 0
                shift = 0
                return result
            }
            shift += 7
            return nil
        }
    }
}
