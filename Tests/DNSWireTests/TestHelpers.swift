import DNSWire

/// A name from presentation text that the test author knows to be valid; a typo in a test
/// table stops the run loudly rather than silently testing something else.
func name(_ text: String) -> DomainName {
    do {
        return try DomainName(text)
    } catch {
        fatalError("test name \"\(text)\" is invalid: \(error)")
    }
}

/// A name from wire bytes that the test author knows to be valid.
func name(wire: [UInt8]) -> DomainName {
    do {
        return try DomainName(wire: wire)
    } catch {
        fatalError("test name \(wire) is invalid: \(error)")
    }
}

/// One length-prefixed label in wire form.
func label(_ text: String) -> [UInt8] {
    [UInt8(text.utf8.count)] + Array(text.utf8)
}

/// A label of `count` copies of `byte`.
func label(repeating byte: UInt8, count: Int) -> [UInt8] {
    [UInt8(count)] + [UInt8](repeating: byte, count: count)
}

/// A 12-byte header in wire form.
func headerBytes(
    id: UInt16 = 0x1234, flags: UInt16 = 0x0100, questions: UInt16 = 0, answers: UInt16 = 0,
    authority: UInt16 = 0, additional: UInt16 = 0
) -> [UInt8] {
    [id, flags, questions, answers, authority, additional].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
}

func bigEndian(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }

func bigEndian(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
}

extension Message {
    /// The message with its header counts taken from its sections. Writing does this too, and
    /// parsing reports the counts it read, so round-trip comparisons need it.
    func withSectionCounts() -> Message {
        var message = self
        message.header.questionCount = UInt16(questions.count)
        message.header.answerCount = UInt16(answers.count)
        message.header.authorityCount = UInt16(authority.count)
        message.header.additionalCount = UInt16(additional.count)
        return message
    }
}

/// The length `message` would have with no name compressed: the baseline compression beats.
func uncompressedLength(of message: Message) -> Int {
    func dataLength(_ data: RecordData) -> Int {
        switch data {
        case .a(let bytes), .aaaa(let bytes), .unknown(let bytes): bytes.count
        case .ns(let name), .ptr(let name), .cname(let name): name.wire.count
        case .soa(let soa): soa.primary.wire.count + soa.mailbox.wire.count + 20
        case .hinfo(let cpu, let os): 2 + cpu.count + os.count
        case .opt(let options): options.reduce(0) { $0 + 4 + $1.data.count }
        }
    }
    let records = message.answers + message.authority + message.additional
    return Header.length
        + message.questions.reduce(0) { $0 + $1.name.wire.count + 4 }
        + records.reduce(0) { $0 + $1.name.wire.count + 10 + dataLength($1.data) }
}

/// The message parsed back from its own bytes, or the error parsing threw.
func roundTrip(_ message: Message) -> Result<Message, WireError> {
    do throws(WireError) {
        return .success(try Message(bytes: message.bytes))
    } catch {
        return .failure(error)
    }
}

/// The name at `position` in `bytes`, read as the parser reads it.
func readName(in bytes: [UInt8], at position: Int) throws(WireError) -> DomainName {
    var result: Result<DomainName, WireError> = .failure(.truncated(needed: 1, available: 0, at: position))
    bytes.withUnsafeBytes { raw in
        var reader = WireReader(raw, position: position)
        do throws(WireError) {
            result = .success(try reader.readName())
        } catch {
            result = .failure(error)
        }
    }
    return try result.get()
}
