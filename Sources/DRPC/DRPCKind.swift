/// The kind of a DRPC frame: bits 6..1 of the control byte (`drpcwire.Kind` in storj.io/drpc).
///
/// An open registry, so a kind this module does not know still parses: the reader then ignores it
/// when the frame's control bit says "ignore if unknown", and reports it as an error otherwise.
public struct DRPCKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The six-bit kind number; only 0...63 fit in a control byte.
    public var rawValue: UInt8

    public init(rawValue: UInt8) {
        self.rawValue = rawValue
    }

    /// `KindInvoke`: starts an RPC; the body is the method name, for example
    /// `/coder.tailnet.v2.Tailnet/WorkspaceUpdates`.
    public static let invoke = DRPCKind(rawValue: 1)
    /// `KindMessage`: one encoded protobuf message.
    public static let message = DRPCKind(rawValue: 2)
    /// `KindError`: 8-byte big-endian error code, then the UTF-8 error text (`drpcwire.MarshalError`).
    public static let error = DRPCKind(rawValue: 3)
    /// `KindCancel`: a soft cancel, sent with the control bit set. It asks the receiver to stop a
    /// handler, which a client does not have.
    public static let cancel = DRPCKind(rawValue: 4)
    /// `KindClose`: the RPC is dead; no body.
    public static let close = DRPCKind(rawValue: 5)
    /// `KindCloseSend`: the sender sends nothing more on this stream; no body.
    public static let closeSend = DRPCKind(rawValue: 6)
    /// `KindInvokeMetadata`: metadata for the Invoke that follows; only sent when the caller's
    /// context carries drpc metadata, which coder's clients never do.
    public static let invokeMetadata = DRPCKind(rawValue: 7)

    /// Whether storj.io/drpc v0.0.33 defines this kind.
    public var isKnown: Bool {
        (1...7).contains(rawValue)
    }

    public var description: String {
        switch self {
        case .invoke: "Invoke"
        case .message: "Message"
        case .error: "Error"
        case .cancel: "Cancel"
        case .close: "Close"
        case .closeSend: "CloseSend"
        case .invokeMetadata: "InvokeMetadata"
        default: "kind \(rawValue)"
        }
    }
}
