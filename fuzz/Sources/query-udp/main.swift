import DNSWire
import FuzzDriver
import FuzzZone
import Responder

// The whole UDP query path: arbitrary datagram bytes through QueryProcessor against a small
// fixed snapshot. One processor serves every input, as one serves a thread in the server, so
// state left behind by one query would show in the next. Properties: no trap; a reply is a
// well-formed response with the request's ID, fits the UDP limit, and is the same when the
// same request is answered again.
let processor = QueryProcessor()
let snapshot = FuzzZone.snapshot

runFuzzer { request in
    guard processor.process(request, snapshot: snapshot, transport: .udp) else {
        fuzzCheck(request.count < Header.length || request[2] & 0x80 != 0, "dropped a query")
        return
    }
    let reply = processor.reply
    fuzzCheck(reply.count <= QueryProcessor.maximumUDPPayload, "UDP reply of \(reply.count) bytes")
    fuzzCheck(reply.count >= Header.length, "reply shorter than a header")
    fuzzCheck(reply[0] == request[0] && reply[1] == request[1], "reply ID differs")
    fuzzCheck(reply[2] & 0x80 != 0, "reply without QR")
    do {
        _ = try Message(bytes: reply)
    } catch {
        fuzzCheck(false, "reply does not parse: \(error)")
    }
    let again = processor.process(request, snapshot: snapshot, transport: .udp)
    fuzzCheck(again && processor.reply == reply, "the same request answered differently")
}
