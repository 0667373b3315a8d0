extension YamuxSession {
    /// Keepalive: when keepAliveInterval has passed since the last ping was answered/sent, queue Ping|SYN with a new opaque
    /// id; throws keepAliveTimeout when an outstanding ping is older than keepAliveTimeout.
    ///
    /// coderd pings us too, but its verdict only shows up as a closed WebSocket; our own ping is
    /// how the client notices a server (or a middlebox) that went silent without closing.
    /// At most one ping is outstanding, as with Go's keepalive loop.
    public mutating func tick(now: Double) throws(YamuxError) {
        if let failure { throw failure }
        guard configuration.keepAliveInterval > 0 else { return }
        if let outstandingPing {
            guard now - outstandingPing.sentAt >= configuration.keepAliveTimeout else { return }
            let error = YamuxError.keepAliveTimeout(seconds: configuration.keepAliveTimeout)
            failure = error
            throw error
        }
        guard now >= lastPingActivity + configuration.keepAliveInterval else { return }
        let opaque = nextPingOpaque
        nextPingOpaque &+= 1
        outstandingPing = (opaque, now)
        lastPingActivity = now
        queueFrame(type: .ping, flags: .synchronize, streamID: YamuxFrameHeader.sessionStreamID, length: opaque)
    }

    /// When `tick` should next be called (infinity when keepalive is off).
    ///
    /// With a ping outstanding that is when it times out; otherwise when the next ping is due.
    public var nextDeadline: Double {
        guard configuration.keepAliveInterval > 0 else { return .infinity }
        if let outstandingPing { return outstandingPing.sentAt + configuration.keepAliveTimeout }
        return lastPingActivity + configuration.keepAliveInterval
    }

    /// Ping|SYN from the peer is echoed at once; Ping|ACK settles our own ping if the value matches.
    ///
    /// An ACK with any other value is stale (for a ping we already gave up on) and is ignored.
    mutating func handlePing(_ header: YamuxFrameHeader, now: Double, events: inout [YamuxEvent]) {
        if header.flags.contains(.synchronize) {
            queueFrame(type: .ping, flags: .acknowledge, streamID: YamuxFrameHeader.sessionStreamID, length: header.length)
        } else if header.flags.contains(.acknowledge), let outstandingPing, outstandingPing.opaque == header.length {
            self.outstandingPing = nil
            lastPingActivity = now
            events.append(.pingAnswered(roundTrip: now - outstandingPing.sentAt))
        }
    }
}
