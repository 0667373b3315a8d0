/// Everything that can be wrong with bytes that claim to be a DNS message.
///
/// Positions are byte offsets from the start of the message, so a failure can be found in a
/// hex dump. Higher layers map every case to FORMERR (or to a drop, for a short header).
public enum WireError: Error, Equatable, Sendable {
    /// The message ends before a field does.
    case truncated(needed: Int, available: Int, at: Int)
    /// A label length byte over 63 (RFC 1035 section 2.3.4).
    case labelTooLong(length: Int, at: Int)
    /// A name over 255 bytes in wire form once decompressed (RFC 1035 section 2.3.4).
    case nameTooLong(at: Int)
    /// A label type other than a length (00) or a pointer (11): 01 and 10 are extended/obsolete.
    case badLabelType(UInt8, at: Int)
    /// A compression pointer that does not point strictly backwards, which is how loops start.
    case badPointer(target: Int, at: Int)
    /// More compression pointers followed for one name than the limit allows.
    case tooManyPointers(at: Int)
    /// RDATA whose length does not match what its type requires.
    case badRecordData(type: RecordType, at: Int)
    /// A name given as text that is not a valid domain name.
    case badNameText(String)
    /// More than one OPT record, or an OPT record that is not owned by the root (RFC 6891 6.1.1).
    case badOPT(at: Int)
}
