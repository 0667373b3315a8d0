import DNSWire
import RecordStore
import Responder
import Testing

@Suite("UDP size limits and truncation")
struct TruncationTests {
    /// `many.coder` with `count` addresses: `count` workspaces of that name, one agent each.
    static func zone(addresses count: Int) -> ZoneSnapshot {
        var state = WorkspaceState()
        for index in 0..<count {
            let workspace = Identifier(high: 0x1000 + UInt64(index), low: 1)
            let agent = Identifier(high: 0x2000 + UInt64(index), low: UInt64(index))
            state.workspaces[workspace] = Workspace(id: workspace, name: "many", status: .running)
            state.agents[agent] = Agent(id: agent, name: "main", workspaceID: workspace)
        }
        return ZoneSnapshot(state: state, configuration: TestZone.configuration, serial: 1)
    }

    @Test func withoutEDNSAnAnswerOver512BytesIsTruncated() throws {
        let snapshot = Self.zone(addresses: 30)
        let reply = try #require(TestZone.answer(TestZone.query("many.coder", .aaaa, edns: nil), snapshot: snapshot))
        #expect(reply.header.isTruncated)
        #expect(reply.rcode == .noError)
        #expect(reply.answers.isEmpty && reply.authority.isEmpty && reply.additional.isEmpty)
        #expect(reply.questions.count == 1)
    }

    @Test func withEDNSTheSameAnswerFits() throws {
        let snapshot = Self.zone(addresses: 30)
        let reply = try #require(TestZone.answer(TestZone.query("many.coder", .aaaa), snapshot: snapshot))
        #expect(!reply.header.isTruncated)
        #expect(reply.answers.count == 30)
        let addresses = reply.answers.compactMap { record -> [UInt8]? in
            if case .aaaa(let bytes) = record.data { return bytes }
            return nil
        }
        #expect(Set(addresses).count == 30)
    }

    @Test func anAdvertisedSizeBelow512CountsAs512() throws {
        let snapshot = Self.zone(addresses: 15)  // 12 + 16 + 15 * 28 + 11 = 459 bytes
        let reply = try #require(TestZone.answer(TestZone.query("many.coder", .aaaa, edns: EDNS(udpPayloadSize: 100)), snapshot: snapshot))
        #expect(!reply.header.isTruncated)
        #expect(reply.answers.count == 15)
    }

    @Test func aLargerAdvertisedSizeIsCappedAt1232AndTheOPTIsKept() throws {
        let snapshot = Self.zone(addresses: 50)  // 1400 bytes of answers
        let reply = try #require(TestZone.answer(TestZone.query("many.coder", .aaaa, edns: EDNS(udpPayloadSize: 4096)), snapshot: snapshot))
        #expect(reply.header.isTruncated)
        #expect(reply.answers.isEmpty)
        #expect(reply.additional.map(\.type) == [.opt])
    }

    @Test func tcpCarriesTheWholeAnswer() throws {
        let snapshot = Self.zone(addresses: 50)
        let reply = try #require(
            TestZone.answer(TestZone.query("many.coder", .aaaa, edns: nil), snapshot: snapshot, transport: .tcp))
        #expect(!reply.header.isTruncated)
        #expect(reply.answers.count == 50)
    }

    @Test func aReplyOverTheTCPLimitBecomesSERVFAIL() throws {
        let snapshot = Self.zone(addresses: 2400)  // 67,200 bytes of answers
        let reply = try #require(
            TestZone.answer(TestZone.query("many.coder", .aaaa, edns: nil), snapshot: snapshot, transport: .tcp))
        #expect(reply.rcode == .serverFailure)
        #expect(reply.answers.isEmpty)
    }
}
