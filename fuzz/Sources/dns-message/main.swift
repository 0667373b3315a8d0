import DNSWire
import FuzzDriver

// DNSWire's message parser on arbitrary bytes: it throws or parses, never traps. A parsed
// message round-trips: what it writes parses back to the same message, and writing that
// gives the same bytes (the writer is deterministic).
runFuzzer { data in
    guard let message = try? Message(bytes: Array(data)) else { return }
    let written = message.bytes
    let reparsed: Message
    do {
        reparsed = try Message(bytes: written)
    } catch {
        fuzzCheck(false, "a parsed message's own bytes do not parse: \(error)")
        return
    }
    fuzzCheck(reparsed == message, "parse(write(m)) != m")
    fuzzCheck(reparsed.bytes == written, "write is not stable")
}
