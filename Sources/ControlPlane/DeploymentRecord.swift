import Glibc
import RecordStore

/// What the deployment said about the zone, kept beside the state cache (`DIR/deployment`)
/// so that a restart with coderd unreachable serves the cached names under the same owner
/// and suffix, and a cache from another deployment is not served.
///
/// A few `key=value` lines (`source`, `owner`, `owner_id`, `suffix`); never the token.
/// Written atomically (a temporary file renamed over it), mode 0600.
public struct DeploymentRecord: Sendable, Equatable {
    public var identity: FeedIdentity
    /// The deployment's URL (or the feed's endpoint).
    public var destination: String

    public init(identity: FeedIdentity, destination: String) {
        self.identity = identity
        self.destination = destination
    }

    public static func path(directory: String) -> String { directory + "/deployment" }

    public struct RecordError: Error, CustomStringConvertible {
        public let description: String
    }

    public func save(directory: String) throws(RecordError) {
        mkdir(directory, 0o700)
        var text = "source=\(destination)\nowner=\(identity.owner)\nsuffix=\(identity.suffix)\n"
        if let id = identity.ownerID { text += "owner_id=\(id)\n" }
        let path = Self.path(directory: directory)
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw RecordError(description: "\(temporary): cannot create: \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        guard written == bytes.count, synced == 0, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw RecordError(description: "\(path): cannot write: \(String(cString: strerror(errno)))")
        }
    }

    /// The record in `directory`, or nil when there is none or it does not parse.
    public static func load(directory: String) -> DeploymentRecord? {
        let fd = open(path(directory: directory), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 16 {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            bytes += chunk[0..<count]
        }
        var values: [String: String] = [:]
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            values[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        guard let source = values["source"], let owner = values["owner"], let suffix = values["suffix"] else { return nil }
        let ownerID = values["owner_id"].flatMap(Identifier.init(string:))
        return DeploymentRecord(identity: FeedIdentity(owner: owner, ownerID: ownerID, suffix: suffix), destination: source)
    }
}
