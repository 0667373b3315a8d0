import Testing

/// Every kind of query in docs/behaviour.md, asked with dig over UDP on both loopback
/// addresses of one server loaded with the demo state.
@Suite("Answers as dig sees them")
struct DigAnswerTests {
    @Test(arguments: LoopbackAddress.allCases, ["main.myws.me.coder", "main.myws.alice.coder", "myws.coder"])
    func everyNameFormOfAnAgentAnswersItsAddress(address: LoopbackAddress, name: String) throws {
        try ServerProcess.withServer { server in
            let result = try server.dig(name, "AAAA", over: address)
            #expect(result.status == "NOERROR", "\(result)")
            #expect(result.flags == ["qr", "aa"], "\(result)")
            #expect(result.transport == "UDP")
            #expect(result.answer.count == 1, "\(result)")
            let record = try #require(result.answer.first)
            #expect(record.name == name + ".")
            #expect(record.type == "AAAA")
            #expect(record.ttl == 2)
            #expect(Expect.sameAddress(record.data, Demo.mywsMain), "\(record)")
            #expect(result.authority.isEmpty)
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func eachAgentOfATwoAgentWorkspaceAnswersUnderItsOwnName(address: LoopbackAddress) throws {
        try ServerProcess.withServer { server in
            for (name, expected) in [
                ("main.dev.me.coder", Demo.devMain), ("main.dev.alice.coder", Demo.devMain),
                ("gpu.dev.me.coder", Demo.devGPU), ("gpu.dev.alice.coder", Demo.devGPU),
            ] {
                let result = try server.dig(name, "AAAA", over: address)
                #expect(result.status == "NOERROR", "\(name): \(result)")
                #expect(result.answer.count == 1, "\(name): \(result)")
                #expect(result.answer.allSatisfy { Expect.sameAddress($0.data, expected) && $0.ttl == 2 }, "\(name): \(result)")
            }
            // <workspace>.<suffix> only names a workspace with exactly one agent.
            let shortForm = try server.dig("dev.coder", "AAAA", over: address)
            #expect(shortForm.status == "NXDOMAIN", "\(shortForm)")
            #expect(shortForm.flags.contains("aa"))
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func theSentinelAnswersTheServiceAddress(address: LoopbackAddress) throws {
        try ServerProcess.withServer { server in
            let result = try server.dig(Demo.sentinel, "AAAA", over: address)
            #expect(result.status == "NOERROR", "\(result)")
            #expect(result.flags == ["qr", "aa"], "\(result)")
            #expect(result.answer.count == 1, "\(result)")
            let record = try #require(result.answer.first)
            #expect(record.name == Demo.sentinel + ".")
            #expect(record.ttl == 2)
            #expect(Expect.sameAddress(record.data, Demo.serviceAddress), "\(record)")
        }
    }

    @Test(arguments: [("main.myws.me.coder", "A"), ("myws.coder", "TXT"), (Demo.sentinel, "A"), ("main.dev.alice.coder", "MX")])
    func anotherTypeForAKnownNameIsNoDataWithTheSOA(name: String, type: String) throws {
        try ServerProcess.withServer { server in
            for address in LoopbackAddress.allCases {
                let result = try server.dig(name, type, over: address)
                #expect(result.status == "NOERROR", "\(address): \(result)")
                #expect(result.flags == ["qr", "aa"], "\(address): \(result)")
                #expect(result.answer.isEmpty, "\(address): \(result)")
                #expect(Expect.isZoneSOA(result.authoritySOA), "\(address): \(result)")
            }
        }
    }

    @Test(arguments: [
        "alice.coder", "me.coder", "dev.alice.coder", "myws.me.coder", "coder--connect--enabled--right--now.coder",
    ])
    func anEmptyNonTerminalIsNoDataNeverNXDOMAIN(name: String) throws {
        try ServerProcess.withServer { server in
            for address in LoopbackAddress.allCases {
                for type in ["AAAA", "A"] {
                    let result = try server.dig(name, type, over: address)
                    #expect(result.status == "NOERROR", "\(address) \(type): \(result)")
                    #expect(result.flags == ["qr", "aa"], "\(address) \(type): \(result)")
                    #expect(result.answer.isEmpty, "\(address) \(type): \(result)")
                    #expect(Expect.isZoneSOA(result.authoritySOA), "\(address) \(type): \(result)")
                }
            }
        }
    }

    @Test(arguments: ["nope.coder", "nope.main.myws.me.coder", "bob.coder", "main.myws.bob.coder", "stopped-one.coder"])
    func anUnknownNameIsNXDOMAINWithTheSOA(name: String) throws {
        try ServerProcess.withServer { server in
            for address in LoopbackAddress.allCases {
                let result = try server.dig(name, "AAAA", over: address)
                #expect(result.status == "NXDOMAIN", "\(address): \(result)")
                #expect(result.flags == ["qr", "aa"], "\(address): \(result)")
                #expect(result.answer.isEmpty, "\(address): \(result)")
                #expect(Expect.isZoneSOA(result.authoritySOA), "\(address): \(result)")
            }
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func anUnknownAddressInTheReverseZoneIsNXDOMAINWithTheReverseSOA(address: LoopbackAddress) throws {
        try ServerProcess.withServer { server in
            let result = try server.dig("-x", "fd60:627a:a42b:1::1", over: address)
            #expect(result.status == "NXDOMAIN", "\(result)")
            #expect(result.flags == ["qr", "aa"], "\(result)")
            #expect(Expect.isZoneSOA(result.authoritySOA, owner: Demo.reverseApex), "\(result)")
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func theApexAnswersItsSOA(address: LoopbackAddress) throws {
        try ServerProcess.withServer { server in
            let result = try server.dig("coder", "SOA", over: address)
            #expect(result.status == "NOERROR", "\(result)")
            #expect(result.flags == ["qr", "aa"], "\(result)")
            #expect(result.answer.count == 1, "\(result)")
            #expect(Expect.isZoneSOA(result.answer.first), "\(result)")
            #expect(result.authority.isEmpty)

            let reverse = try server.dig(Demo.reverseApex, "SOA", over: address)
            #expect(reverse.status == "NOERROR", "\(reverse)")
            #expect(reverse.flags == ["qr", "aa"], "\(reverse)")
            #expect(Expect.isZoneSOA(reverse.answer.first, owner: Demo.reverseApex), "\(reverse)")
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func theApexAnswersNSWithTheSentinelAndItsAddressAsGlue(address: LoopbackAddress) throws {
        try ServerProcess.withServer { server in
            let result = try server.dig("coder", "NS", over: address)
            #expect(result.status == "NOERROR", "\(result)")
            #expect(result.flags == ["qr", "aa"], "\(result)")
            #expect(result.answer.map(\.description) == ["coder. 2 IN NS \(Demo.sentinel)."], "\(result)")
            let glue = result.additional.filter { $0.type == "AAAA" }
            #expect(glue.count == 1, "\(result)")
            #expect(glue.first?.name == Demo.sentinel + ".")
            #expect(glue.first.map { Expect.sameAddress($0.data, Demo.serviceAddress) } == true, "\(result)")
        }
    }

    @Test(arguments: [
        (Demo.mywsMain, "main.myws.alice.coder."), (Demo.devMain, "main.dev.alice.coder."), (Demo.devGPU, "gpu.dev.alice.coder."),
        (Demo.serviceAddress, Demo.sentinel + "."),
    ])
    func reverseLookupOfAnAddressGivesItsName(address: String, name: String) throws {
        try ServerProcess.withServer { server in
            for loopback in LoopbackAddress.allCases {
                let result = try server.dig("-x", address, over: loopback)
                #expect(result.status == "NOERROR", "\(loopback): \(result)")
                #expect(result.flags == ["qr", "aa"], "\(loopback): \(result)")
                #expect(result.answer.count == 1, "\(loopback): \(result)")
                let record = try #require(result.answer.first)
                #expect(record.type == "PTR")
                #expect(record.ttl == 2)
                #expect(record.data == name, "\(record)")
                #expect(record.name.hasSuffix("." + Demo.reverseApex))
            }
        }
    }

    @Test(arguments: ["example.com", "coder.example.com", "xcoder", "ip6.arpa", "a.7.2.6.0.6.d.f.ip6.arpa"])
    func aNameOutsideBothZonesIsRefusedWithoutAA(name: String) throws {
        try ServerProcess.withServer { server in
            for address in LoopbackAddress.allCases {
                let result = try server.dig(name, "AAAA", over: address)
                #expect(result.status == "REFUSED", "\(address): \(result)")
                #expect(result.flags == ["qr"], "\(address): \(result)")
                #expect(result.answer.isEmpty && result.authority.isEmpty, "\(address): \(result)")
            }
        }
    }

    @Test func aQueryInAnotherClassIsRefusedWithItsQuestionEchoed() throws {
        try ServerProcess.withServer { server in
            let result = try server.dig("myws.coder", "AAAA", "-c", "CH")
            #expect(result.status == "REFUSED", "\(result)")
            #expect(!result.flags.contains("aa"), "\(result)")
            #expect(result.question == [DigQuestion(line: ";myws.coder. CH AAAA")!], "\(result)")
            #expect(result.opt != nil, "\(result)")
        }
    }

    @Test(arguments: LoopbackAddress.allCases)
    func aMixedCaseQuestionIsEchoedLetterForLetter(address: LoopbackAddress) throws {
        try ServerProcess.withServer { server in
            let hit = try server.dig("MaIn.MyWs.Me.CoDeR", "AAAA", over: address)
            #expect(hit.status == "NOERROR", "\(hit)")
            #expect(hit.question.map(\.name) == ["MaIn.MyWs.Me.CoDeR."], "\(hit)")
            #expect(hit.answer.map(\.name) == ["MaIn.MyWs.Me.CoDeR."], "\(hit)")
            #expect(hit.answer.allSatisfy { Expect.sameAddress($0.data, Demo.mywsMain) }, "\(hit)")

            let miss = try server.dig("NoPe.CoDeR", "AAAA", over: address)
            #expect(miss.status == "NXDOMAIN", "\(miss)")
            #expect(miss.question.map(\.name) == ["NoPe.CoDeR."], "\(miss)")

            let sentinel = try server.dig("IS.Coder--Connect--Enabled--Right--Now.CODER", "AAAA", over: address)
            #expect(sentinel.answer.map(\.name) == ["IS.Coder--Connect--Enabled--Right--Now.CODER."], "\(sentinel)")
        }
    }

    @Test func anyForAHostIsItsAddressesAndForTheApexItsSOA() throws {
        try ServerProcess.withServer { server in
            let host = try server.dig("myws.coder", "ANY")
            #expect(host.status == "NOERROR", "\(host)")
            #expect(host.answer.count == 1 && host.answer.allSatisfy { $0.type == "AAAA" }, "\(host)")

            let apex = try server.dig("coder", "ANY")
            #expect(apex.status == "NOERROR", "\(apex)")
            #expect(apex.answer.count == 1 && Expect.isZoneSOA(apex.answer.first), "\(apex)")

            let empty = try server.dig("alice.coder", "ANY")
            #expect(empty.status == "NOERROR" && empty.answer.isEmpty && Expect.isZoneSOA(empty.authoritySOA), "\(empty)")
        }
    }
}

/// Fixtures/state-unservable-names.json: names as Coder sends them. Labels Coder accepts
/// (underscores, leading digits, capitals) are served lower-cased; the agents whose names
/// cannot be labels are left out and logged, and nothing else is lost.
@Suite("Names as Coder allows them, as dig sees them")
struct UnservableNameTests {
    static let fixture = IntegrationEnvironment.fixture("state-unservable-names.json")

    @Test func labelsCoderAcceptsResolveAndTheOthersAreLeftOutAndLogged() throws {
        try ServerProcess.withServer(snapshot: Self.fixture) { server in
            for (name, address) in [
                ("main_agent-1.main-workspace.me.coder", "fd60:627a:a42b:4711:8899:aabb:ccdd:eeff"),
                ("main_agent-1.main-workspace.alice.coder", "fd60:627a:a42b:4711:8899:aabb:ccdd:eeff"),
                ("dev_box.dev_box.alice.coder", "fd60:627a:a42b:4711:8899::4"),
                ("DEV_BOX.Dev_Box.me.coder", "fd60:627a:a42b:4711:8899::4"),
                ("upper.9lives.me.coder", "fd60:627a:a42b:4711:8899::5"),
                ("9lives.coder", "fd60:627a:a42b:4711:8899::5"),
            ] {
                let result = try server.dig(name, "AAAA")
                #expect(result.status == "NOERROR", "\(name): \(result)")
                #expect(result.answer.count == 1 && Expect.sameAddress(result.answer[0].data, address), "\(name): \(result)")
            }
            // The dotted agent and workspace: their names are not served (the dot splits them).
            for name in ["box.main-workspace.me.coder", "main.my.ws.me.coder", "main.ws.me.coder"] {
                let result = try server.dig(name, "AAAA")
                #expect(result.status == "NXDOMAIN", "\(name): \(result)")
            }
            let ptr = try server.dig("-x", "fd60:627a:a42b:4711:8899::4")
            #expect(ptr.answer.first?.data == "dev_box.dev_box.alice.coder.", "\(ptr)")
            let skippedLines = server.standardErrorLines.filter { $0.contains("names not served") }
            #expect(skippedLines.count == 3, "\(server.standardErrorLines)")
            #expect(skippedLines.contains { $0.contains("workspaces[3].agents[0]") && $0.contains("my.ws") }, "\(skippedLines)")
        }
    }
}
