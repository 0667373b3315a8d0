import EventIO
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Least privilege at start-up (docs/setup-linux.md): the state directory's mode, and
/// `--user`/`--group`.
extension ServeCommand {
    /// A state directory others can write to could be given a cache (or a deployment record)
    /// that the server then serves: refuse it. A missing directory is created 0700 (and, with
    /// `--user`, handed to that user, who writes the cache once root is gone).
    func prepareStateDirectory(for identity: Privileges.Identity?) throws {
        guard let stateDir else { return }
        var status = stat()
        if stat(stateDir, &status) != 0 {
            guard errno == ENOENT else { throw fail("--state-dir \(stateDir): \(String(cString: strerror(errno)))", status: 64) }
            guard mkdir(stateDir, 0o700) == 0 else {
                throw fail("--state-dir \(stateDir): cannot create it: \(String(cString: strerror(errno)))", status: 73)
            }
            if let identity, chown(stateDir, identity.uid, identity.gid) != 0 {
                throw fail("--state-dir \(stateDir): cannot give it to \(identity.user): \(String(cString: strerror(errno)))", status: 73)
            }
            return
        }
        guard status.st_mode & S_IFMT == S_IFDIR else { throw fail("--state-dir \(stateDir): not a directory", status: 64) }
        if status.st_mode & 0o022 != 0 {
            let mode = String(status.st_mode & 0o7777, radix: 8)
            throw fail("--state-dir \(stateDir) is writable by other users (mode \(mode)): chmod 700 it", status: 64)
        }
    }

    /// The identity `--user`/`--group` name, looked up before anything else starts (a typo
    /// fails at once, not after the sockets are bound).
    func privilegeTarget() throws -> Privileges.Identity? {
        guard let user else {
            if group != nil { throw fail("--group needs --user", status: 64) }
            return nil
        }
        do {
            return try Privileges.lookUp(user: user, group: group)
        } catch {
            throw fail("\(error)", status: 64)
        }
    }

    /// Once every socket is bound, before any thread starts: a server started without root
    /// but with a capability (systemd's ambient CAP_NET_BIND_SERVICE for port 53) gives up
    /// every capability. Where a seccomp filter refuses capset (a unit file older than
    /// dist/coderdns.service, which allows it), the capability stays, with a warning: that
    /// binds ports below 1024 and nothing else, and refusing to start would take DNS down.
    func dropCapabilities(logger: Logger) throws {
        do {
            if try Privileges.dropCapabilities() { logger.info("dropped capabilities once the sockets were bound") }
        } catch .call(let call, let code) {
            logger.warning(
                "could not drop capabilities once the sockets were bound: they stay",
                metadata: ["call": "\(call)", "error": "\(String(cString: strerror(code)))"])
        } catch {
            throw fail("\(error)", status: 77)
        }
    }

    /// Once every socket is bound, and before any worker thread starts.
    func dropPrivileges(to identity: Privileges.Identity?, logger: Logger) throws {
        guard let identity else { return }
        do {
            try Privileges.drop(to: identity)
        } catch {
            throw fail("\(error)", status: 77)
        }
        logger.info("dropped privileges", metadata: ["user": "\(identity.user)", "uid": "\(identity.uid)", "gid": "\(identity.gid)"])
    }
}
