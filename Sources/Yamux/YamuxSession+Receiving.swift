extension YamuxSession {
    /// Feeds bytes read from the transport (any split: a header and its body may come in different calls, or many frames
    /// in one).
    ///
    /// - Ping|SYN is answered at once with Ping|ACK echoing the opaque value (queued output):
    ///   coderd drops the connection when its ping goes 10 s unanswered.
    /// - Delivered Data is credited back: once the bytes delivered on a stream since its last
    ///   update reach half the window, a WindowUpdate for that amount is queued (Go's rule in
    ///   `sendWindowUpdate`), so a multi-megabyte stream never stalls at 256 KiB.
    /// - Data beyond the receive window is a protocol error; like Go, a GoAway with code 1 is
    ///   queued before the error is thrown, so flush the output before closing.
    /// - Data and WindowUpdate for an unknown stream are discarded without error (Go drains
    ///   them too: they are normal right after a reset). A SYN from the peer is refused with RST,
    ///   since the client never accepts streams.
    ///
    /// Events come out in wire order. Once this throws, the session is dead and every later call
    /// throws the same error.
    public mutating func receive(_ bytes: some Collection<UInt8>, now: Double) throws(YamuxError) -> [YamuxEvent] {
        if let failure { throw failure }
        var events: [YamuxEvent] = []
        let outcome =
            bytes.withContiguousStorageIfAvailable { buffer in
                captureFailure { (session) throws(YamuxError) in try session.process(buffer, now: now, events: &events) }
            }
            ?? Array(bytes).withUnsafeBufferPointer { buffer in
                captureFailure { (session) throws(YamuxError) in try session.process(buffer, now: now, events: &events) }
            }
        if let outcome { throw outcome }
        return events
    }

    /// Runs `body`, recording an error as the session's failure and returning it instead of throwing,
    /// because `withContiguousStorageIfAvailable` cannot rethrow a typed error.
    private mutating func captureFailure(_ body: (inout YamuxSession) throws(YamuxError) -> Void) -> YamuxError? {
        do {
            try body(&self)
            return nil
        } catch {
            failure = error
            return error
        }
    }

    private mutating func process(_ input: UnsafeBufferPointer<UInt8>, now: Double, events: inout [YamuxEvent]) throws(YamuxError) {
        var index = 0
        while true {
            if case .awaitingHeader = reader.phase {
                guard let header = try reader.readHeader(from: input, at: &index) else { return }
                try admit(header)
            }
            guard let (header, payload) = reader.readPayload(from: input, at: &index) else { return }
            switch header.type {
            case .data, .windowUpdate: handleStreamFrame(header, payload: payload, events: &events)
            case .ping: handlePing(header, now: now, events: &events)
            case .goAway:
                peerGoAwayCode = header.length
                events.append(.goAway(code: header.length))
            }
        }
    }

    /// Decides what happens to the body that follows `header`, before any of it is read.
    ///
    /// The receive window is charged here, on the header, so a body is only ever buffered when
    /// it fits the window: the window is what bounds our memory per stream.
    private mutating func admit(_ header: YamuxFrameHeader) throws(YamuxError) {
        let isStreamFrame = header.type == .data || header.type == .windowUpdate
        let isPeerOpening = isStreamFrame && header.flags.contains(.synchronize)
        if isPeerOpening && streams[header.streamID] != nil {
            // Go's incomingStream: a SYN for a live id is ErrDuplicateStream, answered with GoAway.
            queueFrame(type: .goAway, flags: [], streamID: YamuxFrameHeader.sessionStreamID, length: YamuxGoAwayCode.protocolError)
            throw .duplicateStream(streamID: header.streamID)
        }
        guard header.type == .data else {
            reader.expectPayload(after: header, count: 0, keepsPayload: false)
            return
        }
        guard !isPeerOpening, var stream = streams[header.streamID] else {
            reader.expectPayload(after: header, count: Int(header.length), keepsPayload: false)
            return
        }
        guard header.length <= stream.receiveWindow else {
            queueFrame(type: .goAway, flags: [], streamID: YamuxFrameHeader.sessionStreamID, length: YamuxGoAwayCode.protocolError)
            throw .receiveWindowExceeded(streamID: header.streamID, window: stream.receiveWindow, received: header.length)
        }
        stream.receiveWindow -= header.length
        streams[header.streamID] = stream
        reader.expectPayload(after: header, count: Int(header.length), keepsPayload: true)
    }

    /// Data and WindowUpdate: the flags change the stream's state, the length is data or window.
    private mutating func handleStreamFrame(_ header: YamuxFrameHeader, payload: [UInt8], events: inout [YamuxEvent]) {
        let streamID = header.streamID
        if header.flags.contains(.synchronize) {
            // The server opening a stream: the client accepts none, so refuse it as Go does
            // when its accept backlog is full. (`admit` already threw for a live id.)
            queueFrame(type: .windowUpdate, flags: .reset, streamID: streamID, length: 0)
            return
        }
        // Unknown or already forgotten (reset by us while the body was arriving): discard.
        guard var stream = streams[streamID] else { return }
        if header.flags.contains(.acknowledge) && !stream.isEstablished {
            stream.isEstablished = true
            events.append(.streamEstablished(streamID: streamID))
        }
        if header.type == .windowUpdate && header.length > 0 {
            let (grown, overflow) = stream.sendWindow.addingReportingOverflow(header.length)
            stream.sendWindow = overflow ? UInt32.max : grown
            flush(&stream, streamID: streamID)
        }
        if !payload.isEmpty {
            events.append(.data(streamID: streamID, bytes: payload))
            creditDelivered(UInt32(payload.count), to: &stream, streamID: streamID, isLast: header.flags.contains(.finish))
        }
        if header.flags.contains(.finish) && !stream.peerHasFinished {
            stream.peerHasFinished = true
            events.append(.streamFinished(streamID: streamID))
        }
        if header.flags.contains(.reset) {
            streams[streamID] = nil
            events.append(.streamReset(streamID: streamID))
            return
        }
        store(stream, streamID: streamID)
    }

    /// Go's `sendWindowUpdate`: skip while the delta is under half the window, then grant it all.
    ///
    /// Nothing is granted once the peer has finished: it will send no more, so the update would
    /// only be noise.
    private mutating func creditDelivered(_ count: UInt32, to stream: inout YamuxStream, streamID: UInt32, isLast: Bool) {
        stream.deliveredSinceWindowUpdate += count
        guard !isLast, !stream.peerHasFinished else { return }
        let delta = stream.deliveredSinceWindowUpdate
        guard delta >= configuration.initialWindow / 2 else { return }
        stream.deliveredSinceWindowUpdate = 0
        stream.receiveWindow += delta
        queueFrame(type: .windowUpdate, flags: [], streamID: streamID, length: delta)
    }
}
