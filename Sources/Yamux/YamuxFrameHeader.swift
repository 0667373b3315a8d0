/// The 12-byte header in front of every yamux frame (hashicorp/yamux spec.md, "Framing").
///
/// ```
///  0               1               2               3
///  0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3 4 5 6 7
/// +---------------+---------------+-------------------------------+
/// |    Version    |     Type      |             Flags             |
/// +---------------+---------------+-------------------------------+
/// |                           Stream ID                           |
/// +---------------------------------------------------------------+
/// |                            Length                             |
/// +---------------------------------------------------------------+
/// ```
/// Every field is big-endian. `length` means something different for each type: the payload
/// size that follows a Data header, the window delta of a WindowUpdate, the opaque value of a
/// Ping, and the code of a GoAway. Only Data frames have a body.
public struct YamuxFrameHeader: Equatable, Sendable {
    /// Bytes in a header on the wire.
    public static let length = 12
    /// The only version hashicorp/yamux speaks (`protoVersion`); anything else is not yamux.
    public static let protocolVersion: UInt8 = 0
    /// Stream id 0 names the session itself: Ping and GoAway travel on it.
    public static let sessionStreamID: UInt32 = 0

    /// Version, always ``protocolVersion`` once parsed.
    public var version: UInt8
    /// Type
    public var type: YamuxFrameType
    /// Flags
    public var flags: YamuxFrameFlags
    /// Stream ID: odd for streams the client opened, even for the server's, 0 for the session.
    public var streamID: UInt32
    /// Length: payload size, window delta, ping value or GoAway code, depending on `type`.
    public var length: UInt32

    public init(
        version: UInt8 = YamuxFrameHeader.protocolVersion, type: YamuxFrameType, flags: YamuxFrameFlags = [],
        streamID: UInt32, length: UInt32
    ) {
        self.version = version
        self.type = type
        self.flags = flags
        self.streamID = streamID
        self.length = length
    }

    /// Parses the first 12 bytes of `bytes`; anything after them is ignored.
    ///
    /// The version is checked before the type because a wrong version byte is the clearer
    /// symptom of a byte stream that is not yamux.
    public init(bytes: some Collection<UInt8>) throws(YamuxError) {
        var iterator = bytes.makeIterator()
        var consumed = 0
        func nextByte() throws(YamuxError) -> UInt8 {
            guard let byte = iterator.next() else { throw .truncatedHeader(available: consumed) }
            consumed += 1
            return byte
        }
        func nextWord() throws(YamuxError) -> UInt32 {
            var word: UInt32 = 0
            for _ in 0..<4 { word = word << 8 | UInt32(try nextByte()) }
            return word
        }
        let version = try nextByte()
        guard version == Self.protocolVersion else { throw .invalidVersion(version) }
        let typeByte = try nextByte()
        guard let type = YamuxFrameType(rawValue: typeByte) else { throw .unknownFrameType(typeByte) }
        let flagsHigh = try nextByte()
        let flagsLow = try nextByte()
        let streamID = try nextWord()
        let length = try nextWord()
        self.init(
            version: version, type: type, flags: YamuxFrameFlags(rawValue: UInt16(flagsHigh) << 8 | UInt16(flagsLow)),
            streamID: streamID, length: length)
    }

    /// Appends the 12 header bytes to `output`.
    public func write(to output: inout [UInt8]) {
        output.append(version)
        output.append(type.rawValue)
        output.append(UInt8(truncatingIfNeeded: flags.rawValue >> 8))
        output.append(UInt8(truncatingIfNeeded: flags.rawValue))
        for shift in stride(from: 24, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: streamID >> UInt32(shift))) }
        for shift in stride(from: 24, through: 0, by: -8) { output.append(UInt8(truncatingIfNeeded: length >> UInt32(shift))) }
    }
}
