/// What the server said on the client's stream, one event per whole packet.
public enum DRPCEvent: Hashable, Sendable {
    /// One whole Message packet, reassembled from its frames: one encoded protobuf response.
    case message([UInt8])
    /// An Error packet: the 8-byte big-endian code, then the text. The stream is over. coderd sends
    /// code 0 for a handler's plain error and for an unknown method
    /// (`protocol error: unknown rpc: "..."`), and 12 (`drpcerr.Unimplemented`) when the server has no
    /// workspace updates provider.
    case error(code: UInt64, message: String)
    /// A Close packet: the RPC is dead. coderd's WorkspaceUpdates handler always ends with one (its
    /// deferred `stream.Close()`), even when it failed, so a Close carries no reason.
    case closed
    /// A CloseSend packet: the server sends nothing more. drpc's own handler wrapper ends a normal
    /// return this way. Treat it as the end of the stream just like `closed`.
    case closeSend
}
