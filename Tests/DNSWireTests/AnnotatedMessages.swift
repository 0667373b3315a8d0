/// Hand-written messages, one comment per field. Offsets are from the start of the payload.
enum AnnotatedMessages {
    /// `dig +dnssec myws.coder AAAA` without a cookie: RD, and OPT with DO and payload 1232.
    static let queryAAAAWithEDNS: [UInt8] = [
        // Header
        0x12, 0x34,  // ID 0x1234
        0x01, 0x00,  // flags: QR=0 OPCODE=QUERY RD=1
        0x00, 0x01,  // QDCOUNT 1
        0x00, 0x00,  // ANCOUNT 0
        0x00, 0x00,  // NSCOUNT 0
        0x00, 0x01,  // ARCOUNT 1 (the OPT record)
        // Question, offset 12
        0x04, 0x6D, 0x79, 0x77, 0x73,  // label "myws"
        0x05, 0x63, 0x6F, 0x64, 0x65, 0x72,  // label "coder"
        0x00,  // root label
        0x00, 0x1C,  // QTYPE AAAA (28)
        0x00, 0x01,  // QCLASS IN
        // Additional: OPT (RFC 6891 6.1.2), offset 28
        0x00,  // NAME: root
        0x00, 0x29,  // TYPE OPT (41)
        0x04, 0xD0,  // CLASS: UDP payload size 1232
        0x00,  // TTL: EXTENDED-RCODE 0
        0x00,  // TTL: VERSION 0
        0x80, 0x00,  // TTL: DO=1, Z=0
        0x00, 0x00,  // RDLENGTH 0: no options
    ]

    /// The authoritative answer to that query: two AAAA records whose owners point at the
    /// question name, and an OPT record without DO.
    static let responseAAAA: [UInt8] = [
        // Header
        0x12, 0x34,  // ID 0x1234
        0x85, 0x00,  // flags: QR=1 OPCODE=QUERY AA=1 RD=1 RA=0 RCODE=NOERROR
        0x00, 0x01,  // QDCOUNT 1
        0x00, 0x02,  // ANCOUNT 2
        0x00, 0x00,  // NSCOUNT 0
        0x00, 0x01,  // ARCOUNT 1
        // Question, offset 12
        0x04, 0x6D, 0x79, 0x77, 0x73,  // label "myws"
        0x05, 0x63, 0x6F, 0x64, 0x65, 0x72,  // label "coder"
        0x00,  // root label
        0x00, 0x1C,  // QTYPE AAAA
        0x00, 0x01,  // QCLASS IN
        // Answer 1, offset 28
        0xC0, 0x0C,  // NAME: pointer to offset 12 (myws.coder.)
        0x00, 0x1C,  // TYPE AAAA
        0x00, 0x01,  // CLASS IN
        0x00, 0x00, 0x00, 0x3C,  // TTL 60
        0x00, 0x10,  // RDLENGTH 16
        0xFD, 0x7A, 0x11, 0x5C, 0xA1, 0xE0, 0xAB, 0x12,  // RDATA: fd7a:115c:a1e0:ab12:
        0x48, 0x43, 0xCD, 0x96, 0x62, 0x6B, 0x2C, 0x01,  //   4843:cd96:626b:2c01
        // Answer 2, offset 56
        0xC0, 0x0C,  // NAME: pointer to offset 12
        0x00, 0x1C,  // TYPE AAAA
        0x00, 0x01,  // CLASS IN
        0x00, 0x00, 0x00, 0x3C,  // TTL 60
        0x00, 0x10,  // RDLENGTH 16
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,  // RDATA: ::1
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
        // Additional: OPT, offset 84
        0x00,  // NAME: root
        0x00, 0x29,  // TYPE OPT
        0x04, 0xD0,  // CLASS: UDP payload size 1232
        0x00,  // TTL: EXTENDED-RCODE 0
        0x00,  // TTL: VERSION 0
        0x00, 0x00,  // TTL: DO=0, Z=0
        0x00, 0x00,  // RDLENGTH 0
    ]

    /// A BADVERS reply to an EDNS version 1 query: the RCODE (16) is split between the header
    /// (low 4 bits, 0) and the OPT record's EXTENDED-RCODE (high 8 bits, 1).
    static let responseBadVersion: [UInt8] = [
        // Header
        0xAB, 0xCD,  // ID 0xABCD
        0x80, 0x00,  // flags: QR=1, RCODE bits 0
        0x00, 0x01,  // QDCOUNT 1
        0x00, 0x00,  // ANCOUNT 0
        0x00, 0x00,  // NSCOUNT 0
        0x00, 0x01,  // ARCOUNT 1
        // Question, offset 12
        0x05, 0x63, 0x6F, 0x64, 0x65, 0x72,  // label "coder"
        0x00,  // root label
        0x00, 0x06,  // QTYPE SOA
        0x00, 0x01,  // QCLASS IN
        // Additional: OPT, offset 23
        0x00,  // NAME: root
        0x00, 0x29,  // TYPE OPT
        0x04, 0xD0,  // CLASS: UDP payload size 1232
        0x01,  // TTL: EXTENDED-RCODE 1 (RCODE 16 = BADVERS)
        0x00,  // TTL: VERSION 0 (the version this server speaks)
        0x00, 0x00,  // TTL: DO=0, Z=0
        0x00, 0x0C,  // RDLENGTH 12
        0x00, 0x0A,  // option code COOKIE (10)
        0x00, 0x08,  // option length 8
        0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,  // client cookie
    ]

    static let all: [(String, [UInt8])] = [
        ("queryAAAAWithEDNS", queryAAAAWithEDNS),
        ("responseAAAA", responseAAAA),
        ("responseBadVersion", responseBadVersion),
    ]
}
