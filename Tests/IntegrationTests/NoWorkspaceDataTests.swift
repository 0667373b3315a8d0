import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Started without `--snapshot`, the server knows no workspaces yet: it must not give a
/// negative answer that resolvers would cache.
@Suite("Before any workspace data")
struct NoWorkspaceDataTests {
    @Test(arguments: LoopbackAddress.allCases)
    func everyInZoneNameIsSERVFAILTheSentinelAndApexesIncluded(address: LoopbackAddress) throws {
        try ServerProcess.withServer(snapshot: nil) { server in
            for query in [
                [Demo.sentinel, "AAAA"], ["main.myws.me.coder", "AAAA"], ["myws.coder", "AAAA"], ["nope.coder", "AAAA"],
                ["alice.coder", "AAAA"], ["coder", "SOA"], ["coder", "NS"], ["-x", Demo.serviceAddress], ["-x", Demo.mywsMain],
                [Demo.reverseApex, "SOA"],
            ] {
                let result = try server.dig(query + ["+notcp"], over: address)
                let context = "\(query.joined(separator: " ")): \(result)"
                #expect(result.status == "SERVFAIL", "\(context)")
                #expect(result.flags == ["qr"], "\(context)")
                #expect(result.answer.isEmpty && result.authority.isEmpty, "\(context)")
            }
        }
    }

    @Test func aNameOutsideTheZonesIsStillREFUSED() throws {
        try ServerProcess.withServer(snapshot: nil) { server in
            let result = try server.dig("example.com", "AAAA")
            #expect(result.status == "REFUSED", "\(result)")
            #expect(result.flags == ["qr"], "\(result)")
        }
    }

    @Test func aSIGHUPWithoutAStateFileChangesNothing() throws {
        try ServerProcess.withServer(snapshot: nil) { server in
            server.send(signal: SIGHUP)
            sleep(seconds: 0.3)
            let result = try server.dig(Demo.sentinel, "AAAA")
            #expect(result.status == "SERVFAIL", "\(result)")
        }
    }
}
