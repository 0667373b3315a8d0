/// Everything that can go wrong reading DRPC bytes from a peer.
///
/// Each case is fatal for the stream: the reader stops and throws the same error again on any later
/// call, because after a protocol violation the byte stream can no longer be trusted to be in step.
/// The caller should reset the yamux stream and reconnect.
public enum DRPCError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A varint in a frame header ran past 64 bits (more than 10 bytes, or a 10th byte above 1).
    /// `field` names the header field: "stream id", "message id" or "data length".
    case varintOverflow(field: String)
    /// A packet (the data of its frames so far plus the frame just announced) would exceed the
    /// caller's cap. `size` is what it would have reached.
    case packetTooLarge(limit: Int, size: UInt64)
    /// A frame arrived with an ID below the one the reader expects (drpc: "id monotonicity
    /// violation"). A finished packet moves the expectation past its own ID, so a repeated ID is also
    /// a violation.
    case idMonotonicityViolation(expected: DRPCPacketID, received: DRPCPacketID)
    /// A frame continued a packet with a different kind (drpc: "packet kind change").
    case packetKindChange(id: DRPCPacketID, from: DRPCKind, to: DRPCKind)
    /// A packet of a kind this module does not know arrived without the control bit, which drpc
    /// uses to mark packets that may be ignored.
    case unknownKind(UInt8)
    /// A known kind that a server never sends to a client (Invoke, InvokeMetadata).
    case unexpectedKind(DRPCKind, id: DRPCPacketID)

    public var description: String {
        switch self {
        case .varintOverflow(let field):
            "drpc: varint too long in the frame's \(field)"
        case .packetTooLarge(let limit, let size):
            "drpc: packet of \(size) bytes is over the \(limit)-byte limit (data overflow)"
        case .idMonotonicityViolation(let expected, let received):
            "drpc: id monotonicity violation: frame \(received) arrived while expecting \(expected) or later"
        case .packetKindChange(let id, let from, let to):
            "drpc: packet kind change in packet \(id) from \(from) to \(to)"
        case .unknownKind(let kind):
            "drpc: unknown packet kind \(kind) without the control bit"
        case .unexpectedKind(let kind, let id):
            "drpc: unexpected \(kind) packet \(id) from the server"
        }
    }
}
