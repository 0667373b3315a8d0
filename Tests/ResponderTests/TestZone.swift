import DNSWire
import RecordStore
import Responder

/// A small zone used across the responder tests: owner `alice`, suffix `coder`.
enum TestZone {
    static let configuration = try! ZoneConfiguration(suffix: "coder", owner: "alice")

    static let myws = Identifier(string: "3f1d9a2e-7b4c-4e8a-9f10-112233445566")!
    static let dev = Identifier(string: "5e0c2b7a-1d3f-4a6b-8c9d-0e1f2a3b4c5d")!
    static let mainAgent = Identifier(string: "a1b2c3d4-e5f6-4711-8899-aabbccddeeff")!
    static let devMain = Identifier(string: "01020304-0506-0708-090a-0b0c0d0e0f10")!
    static let devGPU = Identifier(string: "c0ffee00-1234-4abc-9def-00112233aabb")!

    static var state: WorkspaceState {
        var state = WorkspaceState()
        state.workspaces[myws] = Workspace(id: myws, name: "myws", status: .running)
        state.workspaces[dev] = Workspace(id: dev, name: "dev", status: .running)
        state.agents[mainAgent] = Agent(id: mainAgent, name: "main", workspaceID: myws)
        state.agents[devMain] = Agent(id: devMain, name: "main", workspaceID: dev)
        state.agents[devGPU] = Agent(id: devGPU, name: "gpu", workspaceID: dev)
        return state
    }

    static let snapshot = ZoneSnapshot(state: state, configuration: configuration, serial: 7)
    static let empty = ZoneSnapshot.empty(configuration: configuration)

    /// fd60:627a:a42b:4711:8899:aabb:ccdd:eeff
    static let mainAddress: [UInt8] = [0xfd, 0x60, 0x62, 0x7a, 0xa4, 0x2b, 0x47, 0x11, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff]
    /// fd60:627a:a42b:0708:090a:0b0c:0d0e:0f10
    static let devMainAddress: [UInt8] = [0xfd, 0x60, 0x62, 0x7a, 0xa4, 0x2b, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10]
    static let resolverAddress: [UInt8] = [0xfd, 0x60, 0x62, 0x7a, 0xa4, 0x2b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53]

    static func query(
        _ name: String, _ type: RecordType, dnsClass: DNSClass = .internet, id: UInt16 = 0x1234,
        edns: EDNS? = EDNS(udpPayloadSize: 1232), recursionDesired: Bool = true
    ) -> [UInt8] {
        var header = Header(id: id)
        header.recursionDesired = recursionDesired
        let message = Message(
            header: header, questions: [Question(name: try! DomainName(name), type: type, dnsClass: dnsClass)],
            additional: edns.map { [$0.record] } ?? [])
        return message.bytes
    }

    /// The parsed reply, or nil for a drop.
    static func answer(
        _ request: [UInt8], snapshot: ZoneSnapshot = snapshot, transport: QueryProcessor.Transport = .udp
    ) -> Message? {
        let processor = QueryProcessor()
        guard let reply = processor.respond(to: request, snapshot: snapshot, transport: transport) else { return nil }
        return try! Message(bytes: reply)
    }
}
