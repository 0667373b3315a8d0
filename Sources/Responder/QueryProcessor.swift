import DNSWire
import RecordStore

/// Turns one request into one reply: the transport-free heart of the server.
///
/// A pure function of (request bytes, snapshot, transport limit): UDP and TCP only frame its
/// input and output. It follows `docs/behaviour.md` row by row. One processor serves one
/// thread: it keeps its scratch buffers and its writer between queries, so answering does
/// not allocate once they have grown.
public final class QueryProcessor {
    /// The largest UDP reply this server sends (RFC 9715's 1232: no IP fragmentation on a
    /// 1280-byte MTU path), and the payload size it advertises in its OPT record.
    public static let maximumUDPPayload = 1232
    /// Without EDNS, or with a smaller advertised size, UDP replies fit in 512 bytes.
    public static let minimumUDPPayload = 512

    public enum Transport: Sendable {
        case udp
        case tcp
    }

    /// The reply's bytes after ``process(_:snapshot:transport:)`` returned true (a copy).
    public var reply: [UInt8] { writer.bytes }

    /// Calls `body` with the reply after ``process(_:snapshot:transport:)`` returned true,
    /// without copying it (valid only in `body`).
    public func withReply<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        writer.withUnsafeBytes(body)
    }

    /// Copies the reply into `buffer` (the transport's send buffer) and returns its length,
    /// or 0 when it does not fit. Unlike ``reply`` it hands out no array.
    public func copyReply(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        writer.withUnsafeBytes { bytes in
            guard bytes.count <= buffer.count else { return 0 }
            buffer.copyMemory(from: bytes)
            return bytes.count
        }
    }
    /// What this processor has answered: written by its thread, readable from any.
    public let liveCounters = LiveQueryCounters()
    public var counters: QueryCounters { liveCounters.snapshot }

    // Only this processor's thread touches it, one call at a time: no dynamic exclusivity
    // check per write (each was a runtime call on the per-packet path).
    @exclusivity(unchecked) private var writer: WireWriter
    /// The question name as sent (decompressed, case kept).
    private let nameBuffer: UnsafeMutableRawBufferPointer
    /// The question name below the zone's apex, lower-cased: the lookup key. Also scratch
    /// for additional-record owner names.
    private let keyBuffer: UnsafeMutableRawBufferPointer

    public init() {
        writer = WireWriter(capacity: 4096)
        nameBuffer = .allocate(byteCount: DomainName.maximumWireLength, alignment: 8)
        keyBuffer = .allocate(byteCount: DomainName.maximumWireLength, alignment: 8)
    }

    deinit {
        nameBuffer.deallocate()
        keyBuffer.deallocate()
    }

    /// What the request said, as far as it was read.
    private struct Request {
        var id: UInt16 = 0
        var opcode: UInt8 = 0
        var recursionDesired = false
        var nameLength = 0
        var type = RecordType(0)
        var dnsClass = DNSClass(0)
        var hasOPT = false
        var ednsVersion: UInt8 = 0
        var dnssecOK = false
        var udpPayload = 0
    }

    /// The answer chosen for a parsed query.
    private struct Outcome {
        var rcode: RCode
        var authoritative: Bool
    }

    /// Answers `request`. Returns false when the request must be dropped (shorter than a
    /// header, or itself a response); otherwise ``reply`` holds the reply.
    public func process(_ request: UnsafeRawBufferPointer, snapshot: ZoneSnapshot, transport: Transport) -> Bool {
        writer.reset()
        guard request.count >= Header.length else {
            liveCounters.bump(liveCounters.dropped)
            return false
        }
        var reader = WireReader(request)
        guard let header = try? Header(from: &reader) else {
            liveCounters.bump(liveCounters.dropped)
            return false
        }
        guard !header.isResponse else {
            liveCounters.bump(liveCounters.dropped)
            return false
        }
        var query = Request()
        query.id = header.id
        query.opcode = header.opcode.rawValue
        query.recursionDesired = header.recursionDesired

        guard header.opcode == .query else {
            return headerOnly(query, .notImplemented)
        }
        guard header.questionCount == 1, header.answerCount == 0, header.authorityCount == 0 else {
            return headerOnly(query, .formatError)
        }
        do throws(WireError) {
            query.nameLength = try reader.readName(into: nameBuffer)
            query.type = RecordType(try reader.readUInt16())
            query.dnsClass = DNSClass(try reader.readUInt16())
            try readAdditional(&reader, header.additionalCount, into: &query)
            // Bytes after the last record: the counts and the message disagree.
            guard reader.isAtEnd else { return headerOnly(query, .formatError) }
        } catch {
            return headerOnly(query, .formatError)
        }
        // A question for OPT makes no sense (RFC 6891 6.1.1: OPT is not a real type).
        if query.type == .opt { return headerOnly(query, .formatError) }

        let limit: Int
        switch transport {
        case .tcp: limit = 65535
        case .udp:
            let asked = query.hasOPT ? max(query.udpPayload, Self.minimumUDPPayload) : Self.minimumUDPPayload
            limit = min(asked, Self.maximumUDPPayload)
        }
        answer(query, snapshot: snapshot, limit: limit, udp: transport == .udp)
        return true
    }

    /// Scans the additional section for the OPT record (RFC 6891 6.1.1: at most one, owned by
    /// the root). Other records (TSIG, cookies in OPT) are stepped over.
    private func readAdditional(_ reader: inout WireReader, _ count: UInt16, into query: inout Request) throws(WireError) {
        for _ in 0..<count {
            let start = reader.position
            let ownerLength = try reader.readName(into: keyBuffer)
            let type = RecordType(try reader.readUInt16())
            let dnsClass = try reader.readUInt16()
            let ttl = try reader.readUInt32()
            let length = Int(try reader.readUInt16())
            guard length <= reader.remaining else {
                throw .truncated(needed: length, available: reader.remaining, at: reader.position)
            }
            if type == .opt {
                guard !query.hasOPT, ownerLength == 1 else { throw .badOPT(at: start) }
                query.hasOPT = true
                query.udpPayload = Int(dnsClass)
                query.ednsVersion = UInt8((ttl >> 16) & 0xFF)
                query.dnssecOK = ttl & 0x8000 != 0
                // Options must be well framed; their contents are ignored and never echoed.
                var remaining = length
                while remaining > 0 {
                    guard remaining >= 4 else { throw .badRecordData(type: .opt, at: reader.position) }
                    try reader.skip(2)
                    let optionLength = Int(try reader.readUInt16())
                    guard optionLength <= remaining - 4 else { throw .badRecordData(type: .opt, at: reader.position) }
                    try reader.skip(optionLength)
                    remaining -= 4 + optionLength
                }
            } else {
                try reader.skip(length)
            }
        }
    }

    // MARK: - Replies

    private static let questionOffset = Header.length

    private func flags(_ query: Request, _ rcode: RCode, authoritative: Bool, truncated: Bool = false) -> UInt16 {
        var flags = Header.Bit.response | UInt16(query.opcode & 0x0F) << 11 | UInt16(rcode.headerBits)
        if query.recursionDesired { flags |= Header.Bit.recursionDesired }
        if authoritative { flags |= Header.Bit.authoritative }
        if truncated { flags |= Header.Bit.truncated }
        return flags
    }

    /// A reply with every section empty: NOTIMP for other opcodes, FORMERR for what could not
    /// be read. Without a readable question there is nothing sound to echo, OPT included.
    private func headerOnly(_ query: Request, _ rcode: RCode) -> Bool {
        liveCounters.count(rcode)
        liveCounters.count(.unread)
        Header(id: query.id, flags: flags(query, rcode, authoritative: false)).write(to: &writer)
        return true
    }

    private func answer(_ query: Request, snapshot: ZoneSnapshot, limit: Int, udp: Bool) {
        Header(id: query.id, questionCount: 1).write(to: &writer)
        writer.writeName(wire: UnsafeRawBufferPointer(rebasing: nameBuffer[0..<query.nameLength]))
        writer.writeUInt16(query.type.rawValue)
        writer.writeUInt16(query.dnsClass.rawValue)
        let questionEnd = writer.count

        var answers = 0
        var authority = 0
        var additional = 0
        let outcome = writeSections(query, snapshot, &answers, &authority, &additional)
        if query.hasOPT {
            writeOPT(query, outcome.rcode)
            additional += 1
        }
        var truncated = false
        if writer.count > limit {
            writer.truncate(to: questionEnd)
            answers = 0
            authority = 0
            additional = 0
            guard udp else {
                // Only a TCP reply over 65535 bytes gets here: a name with thousands of
                // addresses. An answer is still owed.
                if query.hasOPT {
                    writeOPT(query, .serverFailure)
                    additional = 1
                }
                finish(query, .serverFailure, authoritative: false, truncated: false, 0, 0, additional)
                return
            }
            // RFC 2181 9 / RFC 1035 4.2.1: send what fits with TC=1 so the client retries over
            // TCP; here that is the question and the OPT record.
            truncated = true
            if query.hasOPT {
                writeOPT(query, outcome.rcode)
                additional = 1
            }
        }
        finish(query, outcome.rcode, authoritative: outcome.authoritative, truncated: truncated, answers, authority, additional)
    }

    private func finish(
        _ query: Request, _ rcode: RCode, authoritative: Bool, truncated: Bool, _ answers: Int, _ authority: Int,
        _ additional: Int
    ) {
        liveCounters.count(rcode)
        liveCounters.count(QueryCounters.TypeCategory(query.type))
        if truncated { liveCounters.bump(liveCounters.truncated) }
        writer.patchUInt16(flags(query, rcode, authoritative: authoritative, truncated: truncated), at: 2)
        writer.patchUInt16(UInt16(answers), at: 6)
        writer.patchUInt16(UInt16(authority), at: 8)
        writer.patchUInt16(UInt16(additional), at: 10)
    }

    /// OPT (RFC 6891 6.1.2): our payload size, the extended RCODE bits, version 0, DO copied.
    private func writeOPT(_ query: Request, _ rcode: RCode) {
        writer.writeUInt8(0)  // NAME: root
        writer.writeUInt16(RecordType.opt.rawValue)
        writer.writeUInt16(UInt16(Self.maximumUDPPayload))
        writer.writeUInt8(rcode.extendedBits)
        writer.writeUInt8(0)  // VERSION
        writer.writeUInt16(query.dnssecOK ? 0x8000 : 0)
        writer.writeUInt16(0)  // RDLENGTH: no options
    }

    /// Writes the answer, authority and additional records (OPT aside) and says which RCODE.
    private func writeSections(
        _ query: Request, _ snapshot: ZoneSnapshot, _ answers: inout Int, _ authority: inout Int,
        _ additional: inout Int
    ) -> Outcome {
        if query.hasOPT && query.ednsVersion > 0 {
            return Outcome(rcode: .badVersion, authoritative: false)
        }
        guard query.dnsClass == .internet else {
            return Outcome(rcode: .refused, authoritative: false)
        }
        let name = UnsafeRawBufferPointer(rebasing: nameBuffer[0..<query.nameLength])
        let zone: Zone
        let relativeLength: Int
        if let length = Self.relativeLength(of: name, below: snapshot.forwardApex) {
            zone = .forward
            relativeLength = length
        } else if let length = Self.relativeLength(of: name, below: snapshot.reverseApex) {
            zone = .reverse
            relativeLength = length
        } else {
            return Outcome(rcode: .refused, authoritative: false)
        }
        guard snapshot.hasData else {
            return Outcome(rcode: .serverFailure, authoritative: false)
        }
        switch query.type {
        case .axfr, .ixfr:
            // Zone transfers are not offered: the data is per user and changes by the second.
            return Outcome(rcode: .refused, authoritative: false)
        case .maila, .mailb:
            return Outcome(rcode: .notImplemented, authoritative: false)
        default:
            break
        }
        for i in 0..<relativeLength { keyBuffer[i] = ASCII.lowercase(name[i]) }
        let key = UnsafeRawBufferPointer(rebasing: keyBuffer[0..<relativeLength])
        let apexOffset = Self.questionOffset + relativeLength
        let apex = zone == .forward ? snapshot.configuration.suffix : ZoneConfiguration.reverseApex

        enum Found {
            case apex, records, empty, absent
        }
        var found: Found
        switch zone {
        case .forward:
            let result = snapshot.lookupForward(relativeName: key)
            switch result {
            case .apex: found = .apex
            case .host, .hostAddress:
                found = .records
                if query.type == .aaaa || query.type == .any {
                    answers =
                        snapshot.withAnswerRecords(of: result) { records, count in
                            writer.writeBytes(records)
                            return count
                        } ?? 0
                } else {
                    found = .empty
                }
            case .emptyNonTerminal: found = .empty
            case .absent: found = .absent
            }
        case .reverse:
            switch snapshot.lookupReverse(relativeName: key) {
            case .apex: found = .apex
            case .pointer(let target):
                if query.type == .ptr || query.type == .any {
                    found = .records
                    writer.writePointer(to: Self.questionOffset)
                    writer.writeUInt16(RecordType.ptr.rawValue)
                    writer.writeUInt16(DNSClass.internet.rawValue)
                    writer.writeUInt32(ZoneConfiguration.recordTTL)
                    writer.writeUInt16(UInt16(snapshot.length(of: target)))
                    snapshot.forEachPart(of: target) { writer.writeBytes($0) }
                    answers = 1
                } else {
                    found = .empty
                }
            case .emptyNonTerminal: found = .empty
            case .absent: found = .absent
            }
        }

        switch found {
        case .records:
            return Outcome(rcode: .noError, authoritative: true)
        case .apex:
            switch query.type {
            case .soa, .any:
                // RFC 8482: ANY at the apex gets one RRset, the SOA.
                writeSOA(snapshot, apex: apex, at: apexOffset)
                answers = 1
            case .ns:
                writeNS(snapshot, at: apexOffset)
                answers = 1
                // The name server is the sentinel, which is in the forward zone: give its address.
                writeGlue(snapshot)
                additional = 1
            default:
                writeSOA(snapshot, apex: apex, at: apexOffset)
                authority = 1
            }
            return Outcome(rcode: .noError, authoritative: true)
        case .empty:
            writeSOA(snapshot, apex: apex, at: apexOffset)
            authority = 1
            return Outcome(rcode: .noError, authoritative: true)
        case .absent:
            writeSOA(snapshot, apex: apex, at: apexOffset)
            authority = 1
            return Outcome(rcode: .nameError, authoritative: true)
        }
    }

    private enum Zone {
        case forward, reverse
    }

    /// The length of `name`'s labels above `apex` (0 for the apex itself), or nil when
    /// `name` is not `apex` or below it. Compares at label boundaries, case-insensitively.
    static func relativeLength(of name: UnsafeRawBufferPointer, below apex: [UInt8]) -> Int? {
        guard apex.count <= name.count else { return nil }
        var index = 0
        while index < name.count {
            if name.count - index == apex.count {
                for i in 0..<apex.count where ASCII.lowercase(name[index + i]) != apex[i] { return nil }
                return index
            }
            let length = Int(name[index])
            if length == 0 { return nil }
            index += 1 + length
        }
        return nil
    }

    private func writeSOA(_ snapshot: ZoneSnapshot, apex: DomainName, at apexOffset: Int) {
        writer.writePointer(to: apexOffset)
        writer.writeUInt16(RecordType.soa.rawValue)
        writer.writeUInt16(DNSClass.internet.rawValue)
        writer.writeUInt32(ZoneConfiguration.negativeTTL)
        let lengthOffset = writer.count
        writer.writeUInt16(0)
        writer.writeName(snapshot.nameServer)
        writer.writeName(snapshot.mailbox)
        writer.writeUInt32(snapshot.serial)
        writer.writeUInt32(ZoneConfiguration.refresh)
        writer.writeUInt32(ZoneConfiguration.retry)
        writer.writeUInt32(ZoneConfiguration.expire)
        writer.writeUInt32(ZoneConfiguration.negativeTTL)
        writer.patchUInt16(UInt16(writer.count - lengthOffset - 2), at: lengthOffset)
    }

    private func writeNS(_ snapshot: ZoneSnapshot, at apexOffset: Int) {
        writer.writePointer(to: apexOffset)
        writer.writeUInt16(RecordType.ns.rawValue)
        writer.writeUInt16(DNSClass.internet.rawValue)
        writer.writeUInt32(ZoneConfiguration.recordTTL)
        let lengthOffset = writer.count
        writer.writeUInt16(0)
        writer.writeName(snapshot.nameServer)
        writer.patchUInt16(UInt16(writer.count - lengthOffset - 2), at: lengthOffset)
    }

    private func writeGlue(_ snapshot: ZoneSnapshot) {
        writer.writeName(snapshot.nameServer)
        writer.writeUInt16(RecordType.aaaa.rawValue)
        writer.writeUInt16(DNSClass.internet.rawValue)
        writer.writeUInt32(ZoneConfiguration.recordTTL)
        writer.writeUInt16(16)
        let address = ServiceAddress.resolver
        withUnsafeBytes(of: (address.high.bigEndian, address.low.bigEndian)) { writer.writeBytes($0) }
    }
}

extension QueryProcessor {
    /// Convenience for tests and tools: the reply to `request`, or nil for a drop.
    public func respond(to request: [UInt8], snapshot: ZoneSnapshot, transport: Transport) -> [UInt8]? {
        let replied = request.withUnsafeBytes { process($0, snapshot: snapshot, transport: transport) }
        return replied ? reply : nil
    }
}
