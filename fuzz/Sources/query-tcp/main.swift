import DNSWire
import FuzzDriver
import FuzzZone
import RecordStore
import Responder

// The whole TCP query path: the input's first byte chooses where the rest (a client's byte
// stream: length-prefixed queries) is cut into reads; the reads go through TCPFramer and each
// complete message through QueryProcessor. Properties: no trap; the replies (well-formed
// responses) and the bytes left pending are the same as when the stream arrives in one read.
let processor = QueryProcessor()
let snapshot = FuzzZone.snapshot

func replies(
    _ stream: UnsafeRawBufferPointer, processor: QueryProcessor, snapshot: ZoneSnapshot, splitter: inout Splitter?
) -> ([[UInt8]], Int) {
    var framer = TCPFramer()
    var replies: [[UInt8]] = []
    let answer: (UnsafeRawBufferPointer) -> Void = { message in
        if processor.process(message, snapshot: snapshot, transport: .tcp) {
            replies.append(processor.reply)
        } else {
            replies.append([])
        }
    }
    if splitter != nil {
        splitter!.split(stream) { piece in framer.receive(piece, answer) }
    } else {
        framer.receive(stream, answer)
    }
    return (replies, framer.pendingCount)
}

runFuzzer { data in
    guard let seed = data.first else { return }
    let stream = UnsafeRawBufferPointer(rebasing: data[1...])
    var split: Splitter? = Splitter(seed: seed)
    var whole: Splitter? = nil
    let (pieces, pendingPieces) = replies(stream, processor: processor, snapshot: snapshot, splitter: &split)
    let (oneRead, pendingOne) = replies(stream, processor: processor, snapshot: snapshot, splitter: &whole)
    fuzzCheck(pieces == oneRead, "replies depend on how the stream was split")
    fuzzCheck(pendingPieces == pendingOne, "pending bytes depend on the split")
    for reply in oneRead where !reply.isEmpty {
        fuzzCheck(reply.count <= 65535, "TCP reply of \(reply.count) bytes")
        fuzzCheck(reply[2] & 0x80 != 0, "reply without QR")
        do {
            _ = try Message(bytes: reply)
        } catch {
            fuzzCheck(false, "reply does not parse: \(error)")
        }
    }
}
