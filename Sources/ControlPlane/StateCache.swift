import Glibc
import RecordStore

/// The last known workspace state on disk, so a restarted server answers at once.
///
/// File layout (all integers big-endian):
/// ```
/// magic     8 bytes  "CDNSSTAT"
/// version   4        1
/// length    8        payload bytes
/// checksum  4        CRC-32 (IEEE) of the payload
/// payload:
///   saved-at            8   Unix seconds
///   workspace count     4
///     id 16, status 1, name length 1, name
///   agent count         4
///     id 16, workspace id 16, name length 1, name
/// ```
/// Names are kept as the state holds them, servable or not (the snapshot builder decides);
/// a name over 255 bytes, which could never be served, is cut to its first 255.
///
/// Writes are atomic: a temporary file is written and fsynced, the current file is kept as
/// `state.cache.prev` (a hard link, so `state.cache` never goes missing), the temporary file
/// is renamed over `state.cache`, and the directory is fsynced. Loading falls back to the
/// previous copy when the current one is corrupt, truncated or of an unknown version.
public struct StateCache: Sendable {
    public let directory: String
    public static let version: UInt32 = 1
    static let magic: [UInt8] = Array("CDNSSTAT".utf8)
    static let headerLength = 8 + 4 + 8 + 4

    public var currentPath: String { directory + "/state.cache" }
    public var previousPath: String { directory + "/state.cache.prev" }
    var temporaryPath: String { directory + "/state.cache.tmp" }

    public init(directory: String) {
        self.directory = directory
    }

    public struct CacheError: Error, Equatable, CustomStringConvertible {
        public let path: String
        public let problem: String
        public var description: String { "\(path): \(problem)" }
    }

    /// What loading found: the state (if any copy was good) and the problems with the copies
    /// that were not.
    public struct LoadResult: Sendable {
        public var state: WorkspaceState?
        public var source: String?
        public var savedAt: UInt64?
        public var problems: [CacheError]
    }

    public func load(configuration: ZoneConfiguration) -> LoadResult {
        var result = LoadResult(state: nil, source: nil, savedAt: nil, problems: [])
        for path in [currentPath, previousPath] {
            let (contents, error) = Self.readFile(path)
            guard let bytes = contents else {
                if error != ENOENT {
                    result.problems.append(CacheError(path: path, problem: "cannot read: \(String(cString: strerror(error)))"))
                }
                continue
            }
            do {
                let (state, savedAt) = try Self.decode(bytes, path: path, configuration: configuration)
                result.state = state
                result.source = path
                result.savedAt = savedAt
                return result
            } catch {
                result.problems.append(error)
            }
        }
        return result
    }

    /// Writes `state` atomically. Creates the directory if needed.
    public func save(_ state: WorkspaceState, now: UInt64) throws(CacheError) {
        mkdir(directory, 0o700)
        let bytes = Self.encode(state, savedAt: now)
        let fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw fail(temporaryPath, "cannot create") }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, bytes.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                let error = fail(temporaryPath, "cannot write")
                close(fd)
                throw error
            }
            offset += written
        }
        guard fsync(fd) == 0 else {
            let error = fail(temporaryPath, "fsync failed")
            close(fd)
            throw error
        }
        close(fd)
        // Keep the current copy as the previous one; state.cache itself stays in place.
        unlink(previousPath + ".tmp")
        if link(currentPath, previousPath + ".tmp") == 0 {
            rename(previousPath + ".tmp", previousPath)
        }
        guard rename(temporaryPath, currentPath) == 0 else { throw fail(currentPath, "cannot rename into place") }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            fsync(directoryFD)
            close(directoryFD)
        }
    }

    private func fail(_ path: String, _ what: String) -> CacheError {
        CacheError(path: path, problem: "\(what): \(String(cString: strerror(errno)))")
    }

    /// The file's bytes, or nil and errno.
    static func readFile(_ path: String) -> ([UInt8]?, Int32) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return (nil, errno) }
        defer { close(fd) }
        // Straight into an array of the file's size: no chunk copies, no doubling.
        var info = stat()
        var capacity = fstat(fd, &info) == 0 ? max(Int(info.st_size), 0) + 1 : 1 << 16
        var bytes = [UInt8](repeating: 0, count: capacity)
        var count = 0
        while true {
            if count == capacity {
                capacity *= 2
                bytes += [UInt8](repeating: 0, count: capacity - bytes.count)
            }
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, capacity - count) }
            if got < 0 {
                if errno == EINTR { continue }
                return (nil, errno)
            }
            if got == 0 { break }
            count += got
        }
        bytes.removeLast(bytes.count - count)
        return (bytes, 0)
    }

    // MARK: - Format

    public static func encode(_ state: WorkspaceState, savedAt: UInt64) -> [UInt8] {
        var payload: [UInt8] = []
        payload.reserveCapacity(16 + state.workspaces.count * 40 + state.agents.count * 48)
        append(savedAt, to: &payload)
        append(UInt32(state.workspaces.count), to: &payload)
        for workspace in state.workspaces.values {
            append(workspace.id, to: &payload)
            payload.append(UInt8(workspace.status.rawValue))
            appendName(workspace.name, to: &payload)
        }
        append(UInt32(state.agents.count), to: &payload)
        for agent in state.agents.values {
            append(agent.id, to: &payload)
            append(agent.workspaceID, to: &payload)
            appendName(agent.name, to: &payload)
        }
        var file = magic
        append(version, to: &file)
        append(UInt64(payload.count), to: &file)
        append(CRC32.checksum(payload), to: &file)
        return file + payload
    }

    public static func decode(_ bytes: [UInt8], path: String, configuration: ZoneConfiguration) throws(CacheError) -> (WorkspaceState, UInt64) {
        func fail(_ problem: String) -> CacheError { CacheError(path: path, problem: problem) }
        guard bytes.count >= headerLength else { throw fail("truncated: \(bytes.count) bytes, shorter than the header") }
        guard Array(bytes[0..<8]) == magic else { throw fail("not a coderdns state cache (bad magic)") }
        var cursor = Cursor(bytes: bytes, position: 8)
        let version = cursor.uint32()!
        guard version == Self.version else { throw fail("unknown format version \(version) (this build reads \(Self.version))") }
        let length = cursor.uint64()!
        let checksum = cursor.uint32()!
        guard UInt64(bytes.count - headerLength) == length else {
            throw fail("truncated or padded: payload is \(bytes.count - headerLength) bytes, header says \(length)")
        }
        let payload = bytes[headerLength...]
        guard CRC32.checksum(payload) == checksum else { throw fail("checksum mismatch: the file is corrupt") }

        // Records are read into arrays first, then each map is indexed in one pass.
        guard let savedAt = cursor.uint64(), let workspaceCount = cursor.uint32() else { throw fail("payload ends early") }
        // A count is only a hint: a record takes at least 18 bytes (agents 33).
        var workspaces: [Workspace] = []
        workspaces.reserveCapacity(IdentifierMap<Workspace>.capacityWithRoom(for: min(Int(workspaceCount), bytes.count / 18)))
        for _ in 0..<workspaceCount {
            guard let id = cursor.identifier(), let status = cursor.uint8(), let name = cursor.name() else {
                throw fail("payload ends early")
            }
            guard let parsed = WorkspaceStatus(rawValue: Int(status)) else {
                throw fail("bad workspace record for \(id)")
            }
            workspaces.append(Workspace(id: id, name: name, status: parsed))
        }
        guard let agentCount = cursor.uint32() else { throw fail("payload ends early") }
        var agents: [Agent] = []
        agents.reserveCapacity(IdentifierMap<Agent>.capacityWithRoom(for: min(Int(agentCount), bytes.count / 33)))
        for _ in 0..<agentCount {
            guard let id = cursor.identifier(), let workspaceID = cursor.identifier(), let name = cursor.name() else {
                throw fail("payload ends early")
            }
            agents.append(Agent(id: id, name: name, workspaceID: workspaceID))
        }
        var duplicate: Identifier?
        guard let workspaceMap = IdentifierMap(distinct: workspaces, duplicate: &duplicate) else {
            throw fail("duplicate workspace \(duplicate.map(\.description) ?? "")")
        }
        for agent in agents where !workspaceMap.contains(agent.workspaceID) {
            throw fail("bad agent record for \(agent.id)")
        }
        guard let agentMap = IdentifierMap(distinct: agents, duplicate: &duplicate) else {
            throw fail("duplicate agent \(duplicate.map(\.description) ?? "")")
        }
        let state = WorkspaceState(workspaces: workspaceMap, agents: agentMap)
        guard cursor.position == bytes.count else { throw fail("bytes after the last record") }
        return (state, savedAt)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes.append(contentsOf: $0) }
    }

    /// A length byte and the name; over 255 bytes (never servable) it is cut.
    private static func appendName(_ name: String, to bytes: inout [UInt8]) {
        let utf8 = name.utf8.prefix(255)
        bytes.append(UInt8(utf8.count))
        bytes += utf8
    }

    private static func append(_ id: Identifier, to bytes: inout [UInt8]) {
        append(id.high, to: &bytes)
        append(id.low, to: &bytes)
    }

    struct Cursor {
        let bytes: [UInt8]
        var position: Int

        mutating func uint8() -> UInt8? {
            guard position < bytes.count else { return nil }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func uint32() -> UInt32? {
            guard bytes.count - position >= 4 else { return nil }
            defer { position += 4 }
            return bytes.withUnsafeBytes { UInt32(bigEndian: $0.loadUnaligned(fromByteOffset: position, as: UInt32.self)) }
        }

        mutating func uint64() -> UInt64? {
            guard bytes.count - position >= 8 else { return nil }
            defer { position += 8 }
            return bytes.withUnsafeBytes { UInt64(bigEndian: $0.loadUnaligned(fromByteOffset: position, as: UInt64.self)) }
        }

        mutating func identifier() -> Identifier? {
            guard let high = uint64(), let low = uint64() else { return nil }
            return Identifier(high: high, low: low)
        }

        mutating func name() -> String? {
            guard let length = uint8().map(Int.init), bytes.count - position >= length else { return nil }
            defer { position += length }
            return bytes.withUnsafeBytes { String(decoding: $0[position..<(position + length)], as: UTF8.self) }
        }
    }
}

/// CRC-32 as in zlib and Ethernet (IEEE 802.3, reflected polynomial 0xEDB88320).
public enum CRC32 {
    /// Eight tables for slicing-by-8 (Intel's method): table `k` advances a byte's
    /// contribution by `k` more bytes, so eight bytes cost eight lookups and no loop-carried
    /// shift per byte. Table 0 is the classic byte-at-a-time table (reflected 0xEDB88320).
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 8 * 256)
        for index in 0..<256 {
            var value = UInt32(index)
            for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
            tables[index] = value
        }
        for slice in 1..<8 {
            for index in 0..<256 {
                let previous = tables[(slice - 1) * 256 + index]
                tables[slice * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    public static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        tables.withUnsafeBufferPointer { table in
            var crc: UInt32 = 0xFFFF_FFFF
            var offset = 0
            while offset + 8 <= bytes.count {
                let low = crc ^ UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                let high = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
                crc =
                    table[7 * 256 + Int(low & 0xFF)] ^ table[6 * 256 + Int((low >> 8) & 0xFF)]
                    ^ table[5 * 256 + Int((low >> 16) & 0xFF)] ^ table[4 * 256 + Int(low >> 24)]
                    ^ table[3 * 256 + Int(high & 0xFF)] ^ table[2 * 256 + Int((high >> 8) & 0xFF)]
                    ^ table[1 * 256 + Int((high >> 16) & 0xFF)] ^ table[Int(high >> 24)]
                offset += 8
            }
            while offset < bytes.count {
                crc = table[Int((crc ^ UInt32(bytes[offset])) & 0xFF)] ^ (crc >> 8)
                offset += 1
            }
            return crc ^ 0xFFFF_FFFF
        }
    }
}
