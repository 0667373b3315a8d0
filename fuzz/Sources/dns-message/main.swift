import DNSWire
import FuzzDriver

// DNSWire's message parser on arbitrary bytes: it throws or parses, never traps. A parsed
// message round-trips: what it writes parses back to the same message up to the letter case
// of names (compression matches suffixes case-insensitively and keeps the case written first:
// NameCompressionTests), and writing that gives the same bytes (a fixed point after one write).
func caseFolded(_ message: Message) -> Message {
    func fold(_ record: ResourceRecord) -> ResourceRecord {
        var record = record
        record.name = record.name.lowercased()
        switch record.data {
        case .ns(let name): record.data = .ns(name.lowercased())
        case .ptr(let name): record.data = .ptr(name.lowercased())
        case .cname(let name): record.data = .cname(name.lowercased())
        case .soa(var soa):
            soa.primary = soa.primary.lowercased()
            soa.mailbox = soa.mailbox.lowercased()
            record.data = .soa(soa)
        default: break
        }
        return record
    }
    var message = message
    message.questions = message.questions.map { question in
        var question = question
        question.name = question.name.lowercased()
        return question
    }
    message.answers = message.answers.map(fold)
    message.authority = message.authority.map(fold)
    message.additional = message.additional.map(fold)
    return message
}

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
    fuzzCheck(caseFolded(reparsed) == caseFolded(message), "parse(write(m)) is not m")
    fuzzCheck(reparsed.bytes == written, "write(parse(write(m))) != write(m)")
}
