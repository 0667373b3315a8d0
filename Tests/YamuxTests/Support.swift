import TestSupport
import Yamux

/// One frame's bytes, as the peer would put them on the wire.
func frame(_ type: YamuxFrameType, _ flags: YamuxFrameFlags = [], stream: UInt32, length: UInt32, payload: [UInt8] = []) -> [UInt8] {
    var bytes: [UInt8] = []
    YamuxFrameHeader(type: type, flags: flags, streamID: stream, length: length).write(to: &bytes)
    return bytes + payload
}

/// A Data frame whose length is its payload's.
func dataFrame(_ flags: YamuxFrameFlags = [], stream: UInt32, payload: [UInt8]) -> [UInt8] {
    frame(.data, flags, stream: stream, length: UInt32(payload.count), payload: payload)
}

/// Splits a byte stream back into headers, for checking what the session wrote.
func headers(in bytes: [UInt8]) throws -> [YamuxFrameHeader] {
    var result: [YamuxFrameHeader] = []
    var index = 0
    while index < bytes.count {
        let header = try YamuxFrameHeader(bytes: bytes[index...])
        result.append(header)
        index += YamuxFrameHeader.length + (header.type == .data ? Int(header.length) : 0)
    }
    return result
}

/// A session with stream 1 open and acknowledged, its output drained.
func establishedSession(configuration: YamuxConfiguration = YamuxConfiguration()) throws -> YamuxSession {
    var session = YamuxSession(configuration: configuration, now: 0)
    _ = session.openStream()
    _ = try session.receive(frame(.windowUpdate, .acknowledge, stream: 1, length: 0), now: 0)
    _ = session.takeOutput()
    return session
}

/// The sending half of Go's `Stream`: it writes `min(window, remaining, frameSize)` per Data
/// frame, blocks at window 0 (coderd's `stream.Write` has no deadline), and grows the window
/// by the deltas of the WindowUpdates it reads.
struct GoSenderModel {
    static let initialWindow: UInt32 = 262_144

    let streamID: UInt32
    let frameSize: Int
    var content: [UInt8]
    var sentCount = 0
    var window = GoSenderModel.initialWindow
    var windowUpdatesReceived = 0

    var isFinished: Bool { sentCount == content.count }
    var isStalled: Bool { !isFinished && window == 0 }

    /// The next Data frame, or nil when done or blocked on the window.
    mutating func nextFrame() -> [UInt8]? {
        let count = min(Int(window), content.count - sentCount, frameSize)
        guard count > 0 else { return nil }
        defer {
            sentCount += count
            window -= UInt32(count)
        }
        return dataFrame(stream: streamID, payload: Array(content[sentCount..<sentCount + count]))
    }

    /// Reads what the client wrote, as Go's recvLoop would: WindowUpdates grow the window.
    mutating func read(_ bytes: [UInt8]) throws {
        for header in try headers(in: bytes) where header.type == .windowUpdate && header.streamID == streamID {
            window += header.length
            windowUpdatesReceived += 1
        }
    }
}
