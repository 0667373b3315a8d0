/// A whole DNS message (RFC 1035 section 4.1): header, question, answer, authority and
/// additional sections.
///
/// This is the general, allocating representation used by tests, tools and slow paths; the
/// server's per-packet path reads and writes with ``WireReader`` and ``WireWriter`` directly.
/// The header's counts are taken from the section arrays when writing.
public struct Message: Equatable, Sendable {
    public var header: Header
    public var questions: [Question]
    public var answers: [ResourceRecord]
    public var authority: [ResourceRecord]
    /// The additional section, OPT record included.
    public var additional: [ResourceRecord]

    public init(
        header: Header = Header(), questions: [Question] = [], answers: [ResourceRecord] = [],
        authority: [ResourceRecord] = [], additional: [ResourceRecord] = []
    ) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authority = authority
        self.additional = additional
    }

    /// The EDNS view of the message's OPT record, if it has exactly one.
    public var edns: EDNS? {
        let options = additional.filter { $0.type == .opt }
        guard options.count == 1 else { return nil }
        return EDNS(options[0])
    }

    /// The full RCODE: header bits plus EDNS's extended bits when there is an OPT record.
    public var rcode: RCode {
        RCode(UInt16(edns?.extendedRCode ?? 0) << 4 | UInt16(header.rcodeBits))
    }

    /// Parses a message. Trailing bytes after the last record are an error.
    public init(bytes: [UInt8]) throws(WireError) {
        var result: Result<Message, WireError> = .failure(.truncated(needed: 12, available: 0, at: 0))
        bytes.withUnsafeBytes { raw in
            do throws(WireError) {
                var reader = WireReader(raw)
                result = .success(try Message(from: &reader))
                if !reader.isAtEnd {
                    result = .failure(.badRecordData(type: RecordType(0), at: reader.position))
                }
            } catch {
                result = .failure(error)
            }
        }
        self = try result.get()
    }

    public init(from reader: inout WireReader) throws(WireError) {
        header = try Header(from: &reader)
        questions = []
        answers = []
        authority = []
        additional = []
        for _ in 0..<header.questionCount { questions.append(try Question(from: &reader)) }
        for _ in 0..<header.answerCount { answers.append(try ResourceRecord(from: &reader)) }
        for _ in 0..<header.authorityCount { authority.append(try ResourceRecord(from: &reader)) }
        for _ in 0..<header.additionalCount { additional.append(try ResourceRecord(from: &reader)) }
    }

    public func write(to writer: inout WireWriter) {
        var header = self.header
        header.questionCount = UInt16(questions.count)
        header.answerCount = UInt16(answers.count)
        header.authorityCount = UInt16(authority.count)
        header.additionalCount = UInt16(additional.count)
        header.write(to: &writer)
        for question in questions { question.write(to: &writer) }
        for record in answers { record.write(to: &writer) }
        for record in authority { record.write(to: &writer) }
        for record in additional { record.write(to: &writer) }
    }

    /// The message in wire form, names compressed.
    public var bytes: [UInt8] {
        var writer = WireWriter()
        write(to: &writer)
        return writer.bytes
    }
}
