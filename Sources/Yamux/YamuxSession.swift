/// The client side of a hashicorp/yamux session, as a sans-I/O state machine.
///
/// coderd runs `yamux.Server` over its tailnet WebSocket and the client runs `yamux.Client`,
/// so this side opens odd stream ids (1, 3, 5, …) and refuses streams the server opens.
/// Nothing here touches a socket or a clock: the caller feeds transport bytes to
/// ``receive(_:now:)``, writes whatever ``takeOutput()`` returns, and calls ``tick(now:)`` at
/// ``nextDeadline`` for keepalive. `now` is any monotonic time in seconds.
///
/// Flow control follows Go's `stream.go`: Data never exceeds the peer's window (the rest waits
/// here until a WindowUpdate opens it), and a WindowUpdate goes out once half our receive
/// window has been delivered, because coderd's `stream.Write` blocks forever without one.
public struct YamuxSession: Sendable {
    /// Client streams are odd (Go's `yamux.Client` starts `nextStreamID` at 1 and adds 2).
    static let firstClientStreamID: UInt32 = 1
    /// Stream ids of one side are every other number.
    static let streamIDStep: UInt32 = 2

    let configuration: YamuxConfiguration
    /// The id the next ``openStream()`` returns.
    var nextStreamID = YamuxSession.firstClientStreamID
    var streams: [UInt32: YamuxStream] = [:]
    var output: [UInt8] = []
    var reader = YamuxFrameReader()
    /// The error that ended the session, thrown again by every later `receive` and `tick`.
    var failure: YamuxError?

    /// When our last ping went out or was answered; the next one is due an interval later.
    var lastPingActivity: Double
    /// Our unanswered ping: its opaque value and when it was sent.
    var outstandingPing: (opaque: UInt32, sentAt: Double)?
    /// The opaque value of the next ping; Go counts up from 0 too.
    var nextPingOpaque: UInt32 = 0

    /// The code of the peer's GoAway, once one arrived: no new streams should be opened.
    public internal(set) var peerGoAwayCode: UInt32?

    public init(configuration: YamuxConfiguration = YamuxConfiguration(), now: Double) {
        self.configuration = configuration
        self.lastPingActivity = now
    }

    /// Opens a stream: queues WindowUpdate|SYN with delta 0 (as Go's OpenStream does). Returns its id.
    ///
    /// Data may be sent at once; the spec does not require waiting for the peer's ACK, which
    /// arrives as ``YamuxEvent/streamEstablished(streamID:)`` (or RST if refused). Ids are not
    /// reused; after 2^31 streams they would wrap, which one stream per connection never reaches.
    public mutating func openStream() -> UInt32 {
        let streamID = nextStreamID
        nextStreamID &+= Self.streamIDStep
        streams[streamID] = YamuxStream(window: configuration.initialWindow)
        queueFrame(type: .windowUpdate, flags: .synchronize, streamID: streamID, length: 0)
        return streamID
    }

    /// Queues `bytes` as Data frames on the stream, never more than the peer's send window allows; what does not fit waits
    /// in the session and goes out as the peer's WindowUpdates open the window (inside ``receive(_:now:)``).
    ///
    /// Throws ``YamuxError/streamClosed(streamID:)`` after our FIN or RST or the peer's RST (the
    /// peer's FIN only closes its half, so sending stays allowed), and
    /// ``YamuxError/unknownStream(streamID:)`` for an id ``openStream()`` never returned.
    public mutating func send(_ bytes: [UInt8], streamID: UInt32) throws(YamuxError) {
        guard var stream = streams[streamID] else { throw closedOrUnknown(streamID) }
        guard !stream.wantsToFinish else { throw .streamClosed(streamID: streamID) }
        stream.unsentBytes.append(contentsOf: bytes)
        flush(&stream, streamID: streamID)
        store(stream, streamID: streamID)
    }

    /// Half-close: WindowUpdate|FIN delta 0.
    ///
    /// The FIN follows any bytes still waiting for send window, so nothing sent before it is
    /// lost. Closing a stream that is already closed or unknown does nothing.
    public mutating func closeStream(_ streamID: UInt32) {
        guard var stream = streams[streamID], !stream.wantsToFinish else { return }
        stream.wantsToFinish = true
        flush(&stream, streamID: streamID)
        store(stream, streamID: streamID)
    }

    /// Hard close: WindowUpdate|RST.
    ///
    /// Bytes still waiting for send window are dropped, and the stream is forgotten at once;
    /// frames the peer already sent for it are discarded when they arrive.
    public mutating func resetStream(_ streamID: UInt32) {
        guard streams.removeValue(forKey: streamID) != nil else { return }
        queueFrame(type: .windowUpdate, flags: .reset, streamID: streamID, length: 0)
    }

    /// Queues GoAway with `code` (0 normal).
    public mutating func goAway(code: UInt32) {
        queueFrame(type: .goAway, flags: [], streamID: YamuxFrameHeader.sessionStreamID, length: code)
    }

    /// Bytes to write to the transport, oldest first; empties the queue.
    public mutating func takeOutput() -> [UInt8] {
        var taken: [UInt8] = []
        swap(&taken, &output)
        return taken
    }

    /// Bytes queued for a stream that its send window has not let out yet (0 for unknown streams).
    ///
    /// `send` never refuses for lack of window, so a caller that produces data faster than the
    /// peer reads it should watch this and hold back.
    public func unsentByteCount(streamID: UInt32) -> Int {
        streams[streamID]?.unsentBytes.count ?? 0
    }

    /// Whether the stream is still known to the session (not reset, not closed by both sides).
    public func isOpen(streamID: UInt32) -> Bool {
        streams[streamID] != nil
    }

    // MARK: - Shared by the extensions

    mutating func queueFrame(type: YamuxFrameType, flags: YamuxFrameFlags, streamID: UInt32, length: UInt32) {
        YamuxFrameHeader(type: type, flags: flags, streamID: streamID, length: length).write(to: &output)
    }

    /// Sends as much unsent data as the window allows, then the FIN if one is wanted and due.
    ///
    /// Like Go's `Stream.write`, a Data frame carries at most the whole current window, so one
    /// frame can be large; the peer's receive window bounds it, not a separate frame cap.
    mutating func flush(_ stream: inout YamuxStream, streamID: UInt32) {
        while !stream.unsentBytes.isEmpty && stream.sendWindow > 0 {
            let count = min(stream.unsentBytes.count, Int(stream.sendWindow))
            queueFrame(type: .data, flags: [], streamID: streamID, length: UInt32(count))
            output.append(contentsOf: stream.unsentBytes[..<count])
            stream.unsentBytes.removeFirst(count)
            stream.sendWindow -= UInt32(count)
        }
        if stream.wantsToFinish && !stream.hasSentFinish && stream.unsentBytes.isEmpty {
            queueFrame(type: .windowUpdate, flags: .finish, streamID: streamID, length: 0)
            stream.hasSentFinish = true
        }
    }

    /// Writes the stream back, or forgets it once both halves are closed.
    mutating func store(_ stream: YamuxStream, streamID: UInt32) {
        streams[streamID] = stream.isFullyClosed ? nil : stream
    }

    /// An odd id below ``nextStreamID`` was ours once and is now gone; anything else never was.
    func closedOrUnknown(_ streamID: UInt32) -> YamuxError {
        let wasOpened = streamID % Self.streamIDStep == Self.firstClientStreamID && streamID < nextStreamID
        return wasOpened ? .streamClosed(streamID: streamID) : .unknownStream(streamID: streamID)
    }
}
