/// Cuts the transport's byte stream into frames, whatever sizes it arrives in.
///
/// Go's `sendLoop` writes a header and its body with separate `conn.Write` calls, which over
/// coderd's WebSocket become separate binary messages, so a frame may span many `receive`
/// calls and one call may hold many frames. The reader copies each byte at most once: a
/// header that is split is collected in a 12-byte buffer, and a body either becomes one slice
/// of the caller's bytes or is appended to a buffer reserved to its full length. Bodies the
/// session does not want (Data for a stream it does not know) are counted off, never stored,
/// so a bogus 4 GiB length costs no memory.
struct YamuxFrameReader: Sendable {
    enum Phase: Sendable {
        case awaitingHeader
        case awaitingPayload(YamuxFrameHeader, remaining: Int, keepsPayload: Bool)
    }

    private(set) var phase: Phase = .awaitingHeader
    private var partialHeader: [UInt8] = []
    private var partialPayload: [UInt8] = []

    /// Consumes bytes from `input` at `index` until a header is complete; nil when the input ran
    /// out first (everything consumed is kept for the next call).
    mutating func readHeader(from input: UnsafeBufferPointer<UInt8>, at index: inout Int) throws(YamuxError) -> YamuxFrameHeader? {
        let available = input.count - index
        if partialHeader.isEmpty && available >= YamuxFrameHeader.length {
            defer { index += YamuxFrameHeader.length }
            return try YamuxFrameHeader(bytes: input[index..<index + YamuxFrameHeader.length])
        }
        let taken = min(available, YamuxFrameHeader.length - partialHeader.count)
        partialHeader.append(contentsOf: input[index..<index + taken])
        index += taken
        guard partialHeader.count == YamuxFrameHeader.length else { return nil }
        defer { partialHeader.removeAll(keepingCapacity: true) }
        return try YamuxFrameHeader(bytes: partialHeader)
    }

    /// After ``readHeader(from:at:)``: how many body bytes follow the header, and whether to keep them.
    mutating func expectPayload(after header: YamuxFrameHeader, count: Int, keepsPayload: Bool) {
        phase = .awaitingPayload(header, remaining: count, keepsPayload: keepsPayload)
    }

    /// Consumes body bytes; returns the header and its body (empty when discarded) once the body
    /// is complete, else nil having consumed all of `input`.
    mutating func readPayload(from input: UnsafeBufferPointer<UInt8>, at index: inout Int) -> (YamuxFrameHeader, [UInt8])? {
        guard case .awaitingPayload(let header, let remaining, let keepsPayload) = phase else { return nil }
        let taken = min(remaining, input.count - index)
        if remaining == taken && partialPayload.isEmpty {
            // The whole body is in this call: one copy, straight into the event.
            defer { index += taken }
            phase = .awaitingHeader
            return (header, keepsPayload ? Array(input[index..<index + taken]) : [])
        }
        if keepsPayload {
            // Reserve the whole body once, so a 256 KiB frame in many pieces never regrows.
            if partialPayload.isEmpty { partialPayload.reserveCapacity(remaining) }
            partialPayload.append(contentsOf: input[index..<index + taken])
        }
        index += taken
        guard remaining == taken else {
            phase = .awaitingPayload(header, remaining: remaining - taken, keepsPayload: keepsPayload)
            return nil
        }
        phase = .awaitingHeader
        var payload: [UInt8] = []
        swap(&payload, &partialPayload)
        return (header, payload)
    }
}
