import ControlPlane
import Foundation
import RecordStore

#if canImport(Glibc)
    import Glibc
#endif

/// The test suite's own stand-in for coderd's workspace update stream: a Unix-socket server
/// driven step by step by the test. It can send snapshots and diffs, drop a connection,
/// accept a reconnect and never send anything, send garbage, and disappear entirely.
final class ControlPlaneStandIn {
    let path: String
    private var listener: Int32 = -1
    private let directory: URL

    /// `--control-plane` for coderdns.
    var endpoint: String { "unix:\(path)" }

    init() throws {
        directory = try IntegrationEnvironment.makeTemporaryDirectory()
        path = directory.appendingPathComponent("cp.sock").path
        try listen()
    }

    deinit {
        disappear()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts (or restarts) listening on ``path``.
    func listen() throws {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8) + [0]) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 16) == 0 else {
            let error = SocketError("bind/listen \(path)")
            close(fd)
            throw error
        }
        listener = fd
    }

    /// Stops listening and removes the socket: dials now fail.
    func disappear() {
        if listener >= 0 { close(listener) }
        listener = -1
        unlink(path)
    }

    /// Accepts the next connection and reads its WorkspaceUpdatesRequest.
    func accept(timeout: Double = 5) throws -> Connection {
        var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { throw HarnessError("coderdns did not dial the control plane within \(timeout) s") }
        let fd = Glibc.accept(listener, nil, nil)
        guard fd >= 0 else { throw SocketError("accept") }
        let connection = Connection(fd: fd)
        connection.request = try connection.readMessage(timeout: timeout)
        return connection
    }

    final class Connection {
        private(set) var fd: Int32
        /// The request's bytes, without the length prefix.
        var request: [UInt8] = []
        private var framer = DelimitedFramer()

        init(fd: Int32) { self.fd = fd }
        deinit { drop() }

        func send(_ update: WorkspaceUpdate) throws {
            try sendRaw(DelimitedFramer.frame(update.serializedBytes()))
        }

        func sendRaw(_ bytes: [UInt8]) throws {
            var offset = 0
            while offset < bytes.count {
                let written = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
                guard written > 0 else { throw SocketError("send") }
                offset += written
            }
        }

        /// Closes the connection (the server sees the stream end).
        func drop() {
            if fd >= 0 { close(fd) }
            fd = -1
        }

        /// Whether the peer closed the connection within `timeout` seconds.
        func waitForClose(timeout: Double) -> Bool {
            let deadline = monotonicSeconds() + timeout
            var buffer = [UInt8](repeating: 0, count: 4096)
            while monotonicSeconds() < deadline {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 50) == 1 else { continue }
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count <= 0 { return true }
            }
            return false
        }

        func readMessage(timeout: Double) throws -> [UInt8] {
            let deadline = monotonicSeconds() + timeout
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                if let message = try framer.nextMessage() { return message }
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                let left = deadline - monotonicSeconds()
                guard left > 0, poll(&poller, 1, Int32(left * 1000)) == 1 else { throw HarnessError("no request from coderdns") }
                let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { throw HarnessError("coderdns closed the control-plane connection before its request") }
                framer.append(buffer[0..<count])
            }
        }
    }
}

/// Workspace states for the control-plane tests.
enum TestStates {
    /// One single-agent workspace per name (agent `main`), plus a two-agent workspace `pair`.
    static func state(_ names: [String], pair: Bool = true) -> WorkspaceState {
        var state = WorkspaceState()
        for name in names {
            let ws = identifier(name, 1)
            let agent = identifier(name, 2)
            state.workspaces[ws] = Workspace(id: ws, name: name, status: .running)
            state.agents[agent] = Agent(id: agent, name: "main", workspaceID: ws)
        }
        if pair {
            let ws = identifier("pair", 1)
            state.workspaces[ws] = Workspace(id: ws, name: "pair", status: .running)
            for agentName in ["a", "b"] {
                let agent = identifier("pair-" + agentName, 2)
                state.agents[agent] = Agent(id: agent, name: agentName, workspaceID: ws)
            }
        }
        return state
    }

    /// A stable identifier derived from a name.
    static func identifier(_ name: String, _ kind: UInt64) -> Identifier {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Identifier(high: hash, low: hash &* 31 &+ kind)
    }

    /// Every name a state serves (for queries), sentinel included.
    static func names(of state: WorkspaceState) -> [String] {
        var names = ["is.coder--connect--enabled--right--now.coder"]
        for agent in state.agents.values {
            let workspace = state.workspaces[agent.workspaceID]!
            names.append("\(agent.name).\(workspace.name).me.coder")
            names.append("\(agent.name).\(workspace.name).alice.coder")
            if state.agents.values.filter({ $0.workspaceID == workspace.id }).count == 1 { names.append("\(workspace.name).coder") }
        }
        return names.sorted()
    }
}
