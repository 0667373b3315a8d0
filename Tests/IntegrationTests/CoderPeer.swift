import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The fake coderd of `tests/coderd-peer` (Go, built from coderd's own yamux and WebSocket
/// libraries), running as a child process on loopback, driven through its control API.
final class CoderPeer {
    let child: ChildProcess
    let httpsPort: UInt16
    let controlPort: UInt16
    let directory: URL
    /// The session token the peer accepts, in a 0600 file for `--session-token-file`.
    let tokenFile: String
    static let token = "abcdefghij-peersecret0123456789"

    /// `CODERDNS_CODERD_PEER`, else `.build/coderd-peer/coderd-peer` (scripts/test builds it;
    /// built here once when missing).
    static let binary: String = {
        if let path = ProcessInfo.processInfo.environment["CODERDNS_CODERD_PEER"], !path.isEmpty { return path }
        let path = IntegrationEnvironment.repositoryRoot.appendingPathComponent(".build/coderd-peer/coderd-peer").path
        if !FileManager.default.isExecutableFile(atPath: path) {
            let script = IntegrationEnvironment.repositoryRoot.appendingPathComponent("tests/coderd-peer/build").path
            _ = try? CommandRunner.run(script, [path], timeout: 600)
        }
        return path
    }()

    var url: String { "https://127.0.0.1:\(httpsPort)" }
    var caFile: String { directory.appendingPathComponent("tls/ca.pem").path }

    /// The flags coderdns needs to follow this peer.
    var coderArguments: [String] { ["--coder-url", url, "--session-token-file", tokenFile, "--coder-ca-file", caFile] }

    /// Starts the peer; `port` reuses a port (a restart), else one is picked.
    init(arguments: [String] = [], port: UInt16? = nil, directory reuse: URL? = nil) throws {
        directory = try reuse ?? IntegrationEnvironment.makeTemporaryDirectory()
        tokenFile = directory.appendingPathComponent("token").path
        try Self.token.write(toFile: tokenFile, atomically: true, encoding: .utf8)
        chmod(tokenFile, 0o600)
        let output = directory.appendingPathComponent("peer.out.\(IntegrationEnvironment.uniqueNumber())").path
        child = try ChildProcess(
            executable: Self.binary,
            arguments: [
                "--listen", "127.0.0.1:\(port ?? 0)", "--control", "127.0.0.1:0", "--tls-dir", directory.appendingPathComponent("tls").path,
            ] + arguments,
            standardOutput: output, standardError: directory.appendingPathComponent("peer.err").path,
            environment: ["CODER_PEER_TOKEN": Self.token])
        let deadline = monotonicSeconds() + 10
        var ports: (UInt16, UInt16)?
        while monotonicSeconds() < deadline, ports == nil, child.isRunning {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ready ") }) {
                var values: [String: UInt16] = [:]
                for field in line.split(separator: " ").dropFirst() {
                    let parts = field.split(separator: "=")
                    if parts.count == 2 { values[String(parts[0])] = UInt16(parts[1]) }
                }
                if let https = values["https"], let control = values["control"] { ports = (https, control) }
            }
            usleep(10_000)
        }
        guard let ports else {
            child.stop()
            throw HarnessError(
                "coderd-peer did not start: \((try? String(contentsOfFile: directory.appendingPathComponent("peer.err").path, encoding: .utf8)) ?? "")"
            )
        }
        (httpsPort, controlPort) = ports
    }

    deinit { child.stop() }

    func stop() { child.stop() }

    /// POSTs (or GETs) to the control API and returns the body; a non-2xx status throws.
    @discardableResult
    func control(_ path: String, body: String? = nil, method: String = "POST") throws -> String {
        var arguments = ["-s", "-S", "--fail-with-body", "-X", method, "http://127.0.0.1:\(controlPort)\(path)"]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let output = try CommandRunner.run("/usr/bin/curl", arguments, timeout: 30)
        guard output.status == 0 else { throw HarnessError("control \(path): \(output.summary)") }
        return output.standardOutput
    }

    func stats() throws -> [String: Any] {
        let text = try control("/stats", method: "GET")
        return (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }

    func count(_ key: String) throws -> Int { (try stats()[key] as? Int) ?? -1 }

    /// `POST /state` with workspaces given as (name, [agent names]); ids follow from the names.
    func setState(_ workspaces: [(String, [String])]) throws {
        let items = workspaces.map { workspace, agents in
            let agentItems = agents.map { #"{"id":"\#(Self.agentID(workspace, $0))","name":"\#($0)"}"# }
            return
                #"{"id":"\#(Self.workspaceID(workspace))","name":"\#(workspace)","status":"RUNNING","agents":[\#(agentItems.joined(separator: ","))]}"#
        }
        try control("/state", body: #"{"workspaces":[\#(items.joined(separator: ","))]}"#)
    }

    /// Stable UUIDs made from names (so an address is known from a name alone).
    static func workspaceID(_ name: String) -> String { uuid(prefix: "11111111", name) }
    static func agentID(_ workspace: String, _ agent: String) -> String { uuid(prefix: "22222222", workspace + "/" + agent) }

    private static func uuid(prefix: String, _ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16).leftPadded(to: 16)
        let tail = String(UInt32(truncatingIfNeeded: hash >> 7), radix: 16).leftPadded(to: 8)
        let all = Array(hex + tail)
        return "\(prefix)-\(String(all[0..<4]))-4\(String(all[4..<7]))-8\(String(all[7..<10]))-\(String(all[10..<22]))"
    }

    /// The agent's AAAA: the service prefix and bytes 6..15 of its UUID.
    static func address(_ workspace: String, _ agent: String) -> String {
        let hex = agentID(workspace, agent).replacingOccurrences(of: "-", with: "")
        let tail = Array(hex.dropFirst(12))
        let groups = stride(from: 0, to: 20, by: 4).map { String(tail[$0..<($0 + 4)]) }
        return canonical("fd60:627a:a42b:" + groups.joined(separator: ":"))
    }

    /// An IPv6 address in the form dig prints (RFC 5952).
    static func canonical(_ text: String) -> String {
        var address = in6_addr()
        inet_pton(AF_INET6, text, &address)
        return ipv6Text(withUnsafeBytes(of: &address) { Array($0) })
    }

    /// 16 address bytes in the form dig prints.
    static func ipv6Text(_ bytes: [UInt8]) -> String {
        var address = in6_addr()
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes.prefix(16)) }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        inet_ntop(AF_INET6, &address, &buffer, socklen_t(buffer.count))
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The address of agent k of workspace i made by `/generate`.
    static func generatedAddress(workspace i: Int, agent k: Int = 0) -> String {
        let low = String(i, radix: 16).leftPadded(to: 12)
        let chars = Array(low)
        return canonical(
            "fd60:627a:a42b:\(String(0x4000 | k, radix: 16)):8000:\(String(chars[0..<4])):\(String(chars[4..<8])):\(String(chars[8..<12]))")
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String { String(repeating: "0", count: max(0, length - count)) + self }
}
