import RecordStore

/// A small fixed zone for the targets that answer queries or apply updates: owner `alice`,
/// suffix `coder`, two workspaces with three agents (the responder tests' `TestZone`).
public enum FuzzZone {
    public static let configuration = try! ZoneConfiguration(suffix: "coder", owner: "alice")

    public static let myws = Identifier(string: "3f1d9a2e-7b4c-4e8a-9f10-112233445566")!
    public static let dev = Identifier(string: "5e0c2b7a-1d3f-4a6b-8c9d-0e1f2a3b4c5d")!
    public static let mainAgent = Identifier(string: "a1b2c3d4-e5f6-4711-8899-aabbccddeeff")!
    public static let devMain = Identifier(string: "01020304-0506-0708-090a-0b0c0d0e0f10")!
    public static let devGPU = Identifier(string: "c0ffee00-1234-4abc-9def-00112233aabb")!

    public static var state: WorkspaceState {
        var state = WorkspaceState()
        state.workspaces[myws] = Workspace(id: myws, name: "myws", status: .running)
        state.workspaces[dev] = Workspace(id: dev, name: "dev", status: .running)
        state.agents[mainAgent] = Agent(id: mainAgent, name: "main", workspaceID: myws)
        state.agents[devMain] = Agent(id: devMain, name: "main", workspaceID: dev)
        state.agents[devGPU] = Agent(id: devGPU, name: "gpu", workspaceID: dev)
        return state
    }

    public static let snapshot = ZoneSnapshot(state: state, configuration: configuration, serial: 7)
}
