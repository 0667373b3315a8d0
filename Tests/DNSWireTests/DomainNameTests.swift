import DNSWire
import Testing

@Suite("DomainName: text, wire form and comparisons")
struct DomainNameTests {
    static let coder = label("coder") + [0]

    @Test(
        "Presentation text parses into wire form",
        arguments: [
            ("myws.coder", label("myws") + coder),
            ("myws.coder.", label("myws") + coder),
            ("MyWS.Coder.", label("MyWS") + label("Coder") + [0]),
            (".", [0]),
            ("", [0]),
            ("a\\.b.coder.", label("a.b") + coder),
            ("\\065bc.coder", label("Abc") + coder),
            ("\\000\\255.", [2, 0x00, 0xFF, 0]),
            ("back\\\\slash.", label("back\\slash") + [0]),
            ("\\..", [1, 0x2E, 0]),
            ("sp\\032ace", label("sp ace") + [0]),
            ("\\q", label("q") + [0]),
            ("_dns-sd._udp", label("_dns-sd") + label("_udp") + [0]),
        ] as [(String, [UInt8])])
    func textParses(text: String, wire: [UInt8]) throws {
        #expect(try DomainName(text).wire == wire)
    }

    @Test(
        "Invalid presentation text throws badNameText",
        arguments: [
            "a..coder", ".coder", "..", "coder..", String(repeating: "a", count: 64) + ".coder",
            [String](repeating: String(repeating: "a", count: 63), count: 4).joined(separator: "."),
            "trailing\\", "short\\06", "short\\0", "big\\256", "notdigits\\0a5",
        ])
    func invalidTextThrows(text: String) {
        let error = #expect(throws: WireError.self) { try DomainName(text) }
        guard case .badNameText? = error else {
            Issue.record("\"\(text)\" threw \(String(describing: error)), not badNameText")
            return
        }
    }

    @Test("Label and name lengths at the limits are accepted")
    func limitsAreAccepted() throws {
        let longLabel = try DomainName(String(repeating: "a", count: 63) + ".coder")
        #expect(longLabel.labels.first?.count == 63)
        let labels = [63, 63, 63, 61].map { String(repeating: "x", count: $0) }
        let longest = try DomainName(labels.joined(separator: "."))
        #expect(longest.wire.count == DomainName.maximumWireLength)
        #expect(throws: WireError.self) { try DomainName(labels.joined(separator: ".") + "x") }
    }

    @Test(
        "Wire form is validated",
        arguments: [
            ([], WireError.truncated(needed: 1, available: 0, at: 0)),
            (label("coder"), .truncated(needed: 1, available: 0, at: 6)),
            ([9, 0x61], .truncated(needed: 1, available: 0, at: 10)),
            (label(repeating: 0x61, count: 64) + [0], .labelTooLong(length: 64, at: 0)),
            (label("a") + [0xC0, 0x0C], .labelTooLong(length: 0xC0, at: 2)),
            (coder + [0], .badNameText("trailing bytes after the root label")),
            ([63, 63, 63, 63].flatMap { label(repeating: 0x61, count: $0) } + [0], .nameTooLong(at: 0)),
        ] as [([UInt8], WireError)])
    func wireIsValidated(wire: [UInt8], error: WireError) {
        #expect(throws: error) { try DomainName(wire: wire) }
    }

    @Test(
        "description escapes dots, backslashes and unprintable bytes",
        arguments: [
            (name("myws.coder"), "myws.coder."),
            (.root, "."),
            (name("MyWS.Coder"), "MyWS.Coder."),
            (name(wire: label("a.b") + coder), "a\\.b.coder."),
            (name(wire: label("back\\slash") + [0]), "back\\\\slash."),
            (name(wire: label("sp ace") + [0]), "sp\\032ace."),
            (name(wire: [3, 0x00, 0x7F, 0xFF, 0]), "\\000\\127\\255."),
            (name(wire: [2, 0x21, 0x7E, 0]), "!~."),
        ] as [(DomainName, String)])
    func descriptionEscapes(name: DomainName, text: String) throws {
        #expect(name.description == text)
        #expect(try DomainName(text) == name)
    }

    @Test("description parses back to the same name, for random names")
    func descriptionRoundTrips() throws {
        var random = RandomMessages(seed: 5)
        for _ in 0..<500 {
            let name = random.name()
            #expect(try DomainName(name.description) == name, "\(name.wire)")
        }
    }

    @Test("lowercased folds ASCII letters only")
    func lowercasedFoldsASCIIOnly() {
        #expect(name("MyWS.CODER.").lowercased() == name("myws.coder."))
        #expect(name("Dev-Box_1.Coder").lowercased().description == "dev-box_1.coder.")
        // UTF-8 "ÄB" is C3 84 42: only the B folds.
        #expect(name(wire: [3, 0xC3, 0x84, 0x42, 0]).lowercased().wire == [3, 0xC3, 0x84, 0x62, 0])
        #expect(DomainName.root.lowercased() == .root)
    }

    @Test("ASCII.lowercase changes exactly A through Z")
    func asciiLowercaseTable() {
        for byte in UInt8.min...UInt8.max {
            let expected = (0x41...0x5A).contains(byte) ? byte + 0x20 : byte
            #expect(ASCII.lowercase(byte) == expected, "byte \(byte)")
        }
    }

    @Test(
        "isEquivalent compares case-insensitively and == compares bytes",
        arguments: [
            ("myws.coder.", "MYWS.Coder.", true),
            ("myws.coder.", "myws.coder", true),
            (".", ".", true),
            ("myws.coder.", "myws.coders.", false),
            ("myws.coder.", "mywscoder.", false),
            ("a.b.", "ab.", false),
            ("[.coder", "{.coder", false),  // 0x5B and 0x7B differ by 0x20 but are not letters
            ("@.coder", "`.coder", false),
        ] as [(String, String, Bool)])
    func equivalence(first: String, second: String, equivalent: Bool) {
        #expect(name(first).isEquivalent(to: name(second)) == equivalent)
        #expect(name(second).isEquivalent(to: name(first)) == equivalent)
    }

    @Test("Equality keeps letter case")
    func equalityKeepsCase() {
        #expect(name("MyWS.coder.") != name("myws.coder."))
        #expect(name("MyWS.coder.") == name("MyWS.coder"))
    }

    @Test(
        "isSubdomain walks label boundaries",
        arguments: [
            ("myws.coder.", "coder.", true),
            ("coder.", "coder.", true),
            ("MYWS.Coder.", "coder.", true),
            ("a.b.myws.coder.", "MYWS.CODER.", true),
            ("myws.coder.", ".", true),
            (".", ".", true),
            ("xcoder.", "coder.", false),
            ("a.xcoder.", "coder.", false),
            ("coder.", "myws.coder.", false),
            ("myws.coder.", "ws.coder.", false),
            ("x\\.coder.", "coder.", false),  // one label, "x.coder"
            (".", "coder.", false),
            ("coder.com.", "coder.", false),
        ] as [(String, String, Bool)])
    func subdomain(child: String, parent: String, expected: Bool) {
        #expect(name(child).isSubdomain(of: name(parent)) == expected)
    }

    @Test("labels, labelCount and isRoot")
    func labelAccessors() {
        let parsed = name("a.Bc.def.")
        #expect(parsed.labels.map { Array($0) } == [Array("a".utf8), Array("Bc".utf8), Array("def".utf8)])
        #expect(parsed.labelCount == 3)
        #expect(!parsed.isRoot)
        #expect(DomainName.root.isRoot)
        #expect(DomainName.root.labels.isEmpty)
        #expect(DomainName.root.wire == [0])
    }

    @Test("prepending adds one label in front")
    func prependingAddsALabel() throws {
        #expect(try name("coder.").prepending("MyWS") == name("MyWS.coder."))
        #expect(try DomainName.root.prepending("coder") == name("coder."))
        #expect(throws: WireError.self) { try name("coder.").prepending("") }
        #expect(throws: WireError.self) { try name("coder.").prepending(String(repeating: "a", count: 64)) }
        let long = name([63, 63, 63].map { String(repeating: "y", count: $0) }.joined(separator: "."))  // 193 bytes
        #expect(try long.prepending(String(repeating: "z", count: 61)).wire.count == 255)
        #expect(throws: WireError.self) { try long.prepending(String(repeating: "z", count: 62)) }
    }
}
