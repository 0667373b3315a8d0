import CSocketShim
import Glibc

/// Giving up root once the sockets are bound (`serve --user`): every call that changes who
/// the process is, in the order that leaves nothing behind.
public enum Privileges {
    /// A user and group to become, looked up by name.
    public struct Identity: Sendable, Equatable {
        public let user: String
        public let uid: uid_t
        public let gid: gid_t
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unknownUser(String)
        case unknownGroup(String)
        case rootTarget
        case call(String, errno: Int32)
        case regainable(String)

        public var description: String {
            switch self {
            case .unknownUser(let name): "--user \(name): no such user"
            case .unknownGroup(let name): "--group \(name): no such group"
            case .rootTarget: "--user names root (uid 0): that drops nothing"
            case .call(let call, let code):
                "cannot drop privileges: \(call): \(Errno.message(code)) (errno \(code))\(code == EPERM ? "; --user needs the server started as root" : "")"
            case .regainable(let what): "dropped privileges but \(what): refusing to run"
            }
        }
    }

    /// `user`'s uid and, unless `group` names another, its primary group.
    public static func lookUp(user: String, group: String?) throws(Failure) -> Identity {
        guard let entry = getpwnam(user) else { throw .unknownUser(user) }
        let uid = entry.pointee.pw_uid
        var gid = entry.pointee.pw_gid
        if let group {
            guard let groupEntry = getgrnam(group) else { throw .unknownGroup(group) }
            gid = groupEntry.pointee.gr_gid
        }
        guard uid != 0 else { throw .rootTarget }
        return Identity(user: user, uid: uid, gid: gid)
    }

    /// Becomes `identity` for good: the capability bounding set emptied (while still root),
    /// no supplementary groups, the group then the user (real, effective and saved alike),
    /// every capability cleared, and no-new-privileges so no exec can grant any back. Then
    /// checks that root cannot be regained.
    ///
    /// Call it before starting threads: the bounding set and no-new-privileges are
    /// per-thread (inherited by threads started later). glibc applies setgroups, setgid and
    /// setuid to every thread, and leaving uid 0 clears each thread's capabilities.
    public static func drop(to identity: Identity) throws(Failure) {
        if cdns_drop_capability_bounding_set() != 0 { throw .call("PR_CAPBSET_DROP", errno: Errno.current) }
        if setgroups(0, nil) != 0 { throw .call("setgroups", errno: Errno.current) }
        if cdns_setresgid(identity.gid) != 0 { throw .call("setresgid", errno: Errno.current) }
        if cdns_setresuid(identity.uid) != 0 { throw .call("setresuid", errno: Errno.current) }
        if cdns_clear_capabilities() != 0 { throw .call("capset", errno: Errno.current) }
        if cdns_set_no_new_privileges() != 0 { throw .call("PR_SET_NO_NEW_PRIVS", errno: Errno.current) }
        try verify(identity)
    }

    /// Without root but with capabilities (systemd's `AmbientCapabilities=CAP_NET_BIND_SERVICE`,
    /// or `setcap cap_net_bind_service=+ep` on the binary): empties every capability set of
    /// this thread (effective, permitted, inheritable, ambient) and sets no-new-privileges, so
    /// no exec can grant any back. Then checks every thread of the process (/proc/self/task;
    /// this thread alone where /proc cannot be read): none may hold a capability. True when
    /// there were capabilities to drop; false for root (whose way out is ``drop(to:)``) and
    /// for a process that holds none.
    ///
    /// Call it once the sockets are bound and before any thread starts: capabilities belong
    /// to each thread, a new thread copies its creator's, and only a thread can change its
    /// own (glibc applies set*id calls to every thread, but not capset).
    public static func dropCapabilities() throws(Failure) -> Bool {
        guard geteuid() != 0, cdns_capabilities_held() != 0 || threadsHoldingCapabilities()?.isEmpty == false else { return false }
        if cdns_clear_capabilities() != 0 { throw .call("capset", errno: Errno.current) }
        if cdns_set_no_new_privileges() != 0 { throw .call("PR_SET_NO_NEW_PRIVS", errno: Errno.current) }
        guard cdns_capabilities_held() == 0 else { throw .regainable("capabilities remain") }
        if let holding = threadsHoldingCapabilities(), !holding.isEmpty {
            throw .regainable("threads \(holding.map(String.init).joined(separator: ", ")) still hold capabilities")
        }
        return true
    }

    /// The threads of this process whose CapInh, CapPrm, CapEff or CapAmb (/proc/self/task/
    /// TID/status) is not empty (a thread whose status cannot be read counts as holding);
    /// nil when /proc/self/task cannot be read.
    static func threadsHoldingCapabilities() -> [Int32]? {
        guard let directory = opendir("/proc/self/task") else { return nil }
        defer { closedir(directory) }
        var holding: [Int32] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            guard let thread = Int32(name) else { continue }
            guard let status = readSmallFile("/proc/self/task/\(thread)/status") else {
                holding.append(thread)
                continue
            }
            let sets = status.split(separator: "\n").filter { line in
                ["CapInh:", "CapPrm:", "CapEff:", "CapAmb:"].contains { line.hasPrefix($0) }
            }
            let empty = sets.count == 4 && sets.allSatisfy { line in line.dropFirst(7).allSatisfy { $0 == "0" || $0 == " " || $0 == "\t" } }
            if !empty { holding.append(thread) }
        }
        return holding
    }

    /// A small file's text (/proc), nil when it cannot be read.
    private static func readSmallFile(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { break }
            if count < 0 {
                if Errno.current == EINTR { continue }
                return nil
            }
            bytes += chunk[0..<count]
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func verify(_ identity: Identity) throws(Failure) {
        var (realUser, effectiveUser, savedUser) = (uid_t(0), uid_t(0), uid_t(0))
        var (realGroup, effectiveGroup, savedGroup) = (gid_t(0), gid_t(0), gid_t(0))
        cdns_getresuid(&realUser, &effectiveUser, &savedUser)
        cdns_getresgid(&realGroup, &effectiveGroup, &savedGroup)
        guard [realUser, effectiveUser, savedUser].allSatisfy({ $0 == identity.uid }) else { throw .regainable("a user id is still another") }
        guard [realGroup, effectiveGroup, savedGroup].allSatisfy({ $0 == identity.gid }) else { throw .regainable("a group id is still another") }
        guard getgroups(0, nil) == 0 else { throw .regainable("supplementary groups remain") }
        guard cdns_capabilities_are_empty() == 1 else { throw .regainable("capabilities remain") }
        // The proof: becoming root again must fail.
        guard setuid(0) != 0, seteuid(0) != 0 else { throw .regainable("setuid(0) succeeded") }
        if identity.gid != 0, setgid(0) == 0 { throw .regainable("setgid(0) succeeded") }
    }
}
