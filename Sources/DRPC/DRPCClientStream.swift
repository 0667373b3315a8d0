/// The client side of one DRPC stream for a unary-request, server-streaming call, as coder's
/// `WorkspaceUpdates` uses it: `invoke` gives the bytes to write, `receive` turns the bytes read
/// into events. No sockets, no clocks.
///
/// coder opens a new yamux stream for every RPC (`drpcsdk.MultiplexedConn`), so each
/// `DRPCClientStream` belongs to one yamux stream and uses drpc stream ID 1 on it.
///
/// After `.error` or `.closed` the stream is over: later bytes are ignored. After `.closeSend` it
/// keeps reading, because coderd's handler may still follow with a Close; either one ends the RPC
/// for the caller.
public struct DRPCClientStream: Sendable {
    /// The cap coder itself sets on drpc packets (`drpcsdk.MaxMessageSize = 4 << 20`, used as the
    /// reader's `MaximumBufferSize`): a larger packet would fail in coder's own clients too.
    public static let coderMaximumMessageSize = 4 << 20

    /// Our drpc stream ID; frames for any other stream are ignored.
    public let streamID: UInt64
    private var reader: DRPCPacketReader
    /// The ID our next frame carries: each side numbers its own packets 1, 2, 3, ... per stream.
    private var nextMessageID: UInt64 = 1
    /// Set once an Error or Close has ended the stream.
    public private(set) var isTerminated = false

    /// `maximumMessageSize`: a packet larger than this is `DRPCError.packetTooLarge`. coderdns'
    /// default is 64 MiB; coder's own drpc clients and servers use 4 MiB
    /// (`coderMaximumMessageSize`).
    public init(streamID: UInt64 = 1, maximumMessageSize: Int) {
        self.streamID = streamID
        reader = DRPCPacketReader(maximumPacketSize: maximumMessageSize)
    }

    /// The bytes a drpc client writes to start a unary-in, stream-out call: Invoke (the method),
    /// Message (the request), CloseSend, with message IDs 1, 2 and 3 (`drpcconn.NewStream`,
    /// `MsgSend`, `CloseSend`). No InvokeMetadata, as coder's clients carry no drpc metadata. A
    /// request over 64 KiB is split into frames as drpc splits it. Call once per stream.
    public mutating func invoke(method: String, request: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(method.utf8.count + request.count + 32)
        appendPacket(kind: .invoke, data: Array(method.utf8), to: &bytes)
        appendPacket(kind: .message, data: request, to: &bytes)
        appendPacket(kind: .closeSend, data: [], to: &bytes)
        return bytes
    }

    /// The bytes of a Close packet, which tells the server the RPC is dead (what drpc's
    /// `Stream.Close` sends). Resetting or closing the yamux stream ends the RPC as well.
    public mutating func close() -> [UInt8] {
        var bytes: [UInt8] = []
        appendPacket(kind: .close, data: [], to: &bytes)
        isTerminated = true
        return bytes
    }

    private mutating func appendPacket(kind: DRPCKind, data: [UInt8], to bytes: inout [UInt8]) {
        let id = DRPCPacketID(streamID: streamID, messageID: nextMessageID)
        nextMessageID &+= 1
        for frame in DRPCFrame.split(kind: kind, id: id, data: data) {
            frame.write(to: &bytes)
        }
    }

    /// Feeds bytes read from the yamux stream, split anywhere: a frame may span calls and one
    /// call may hold many frames. Returns the events of the packets they complete, in order.
    ///
    /// Per packet kind, for packets on our stream:
    /// - Message: `.message` with the reassembled data;
    /// - Error: `.error`, then the stream is over;
    /// - Close: `.closed`, then the stream is over;
    /// - CloseSend: `.closeSend`;
    /// - Cancel: ignored. It asks the receiver to stop its handler, and a client has none; the
    ///   server still ends the stream with Close, Error or CloseSend;
    /// - Invoke, InvokeMetadata: `DRPCError.unexpectedKind`, since only a client sends them;
    /// - unknown kinds: ignored with the control bit set, `DRPCError.unknownKind` without.
    ///
    /// A protocol error throws, and the events of the same call before it are lost with the
    /// stream: the caller must drop the connection and start again from the next first message.
    public mutating func receive(_ bytes: some Collection<UInt8>) throws(DRPCError) -> [DRPCEvent] {
        if isTerminated { return [] }
        var events: [DRPCEvent] = []
        var terminated = false
        let streamID = streamID
        // The closure touches locals only, so the reader is mutated in place (no copy of the
        // packet being assembled) while it calls back.
        try reader.receive(bytes) { packet throws(DRPCError) in
            guard packet.id.streamID == streamID else { return true }
            let (event, terminates) = try Self.event(for: packet)
            if let event { events.append(event) }
            terminated = terminates
            return !terminates
        }
        isTerminated = terminated
        return events
    }

    /// The event for one of our packets, and whether it ends the stream.
    private static func event(for packet: DRPCPacket) throws(DRPCError) -> (DRPCEvent?, terminates: Bool) {
        switch packet.kind {
        case .message:
            (.message(packet.data), false)
        case .error:
            (errorEvent(packet.data), true)
        case .close:
            (.closed, true)
        case .closeSend:
            (.closeSend, false)
        case .cancel:
            (nil, false)
        case .invoke, .invokeMetadata:
            throw .unexpectedKind(packet.kind, id: packet.id)
        default:
            if packet.isControl {
                (nil, false)
            } else {
                throw .unknownKind(packet.kind.rawValue)
            }
        }
    }

    /// Decodes an Error packet as `drpcwire.UnmarshalError` does: the 8-byte big-endian code, then
    /// the text. Shorter data is not an error for drpc either: it becomes the text, with drpc's note.
    static func errorEvent(_ data: [UInt8]) -> DRPCEvent {
        let codeSize = 8
        guard data.count >= codeSize else {
            return .error(code: 0, message: String(decoding: data, as: UTF8.self) + " (drpcwire note: invalid error data)")
        }
        let code = data[0..<codeSize].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return .error(code: code, message: String(decoding: data[codeSize...], as: UTF8.self))
    }
}
