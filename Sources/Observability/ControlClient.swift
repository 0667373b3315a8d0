#if canImport(Glibc)
    import Glibc
#endif

/// The client side of the control socket: `coderdns status`, `names`, `reload`.
public enum ControlClient {
    /// Where the socket is unless `--control-socket` says otherwise: `/run/coderdns/control`
    /// for root, `$XDG_RUNTIME_DIR/coderdns/control` for others (`/tmp/coderdns-UID/control`
    /// without a runtime directory).
    public static func defaultPath() -> String {
        if geteuid() == 0 { return "/run/coderdns/control" }
        if let runtime = getenv("XDG_RUNTIME_DIR").map({ String(cString: $0) }), !runtime.isEmpty {
            return runtime + "/coderdns/control"
        }
        return "/tmp/coderdns-\(geteuid())/control"
    }

    public enum Failure: Error, Equatable {
        /// Nothing listens there (no file, or a file nobody answers on).
        case notRunning(String)
        case failed(String)
    }

    /// Sends `request` and returns the server's exit status for it and its text.
    public static func ask(_ request: String, path: String, timeout: Int32 = 30) throws(Failure) -> (status: Int32, text: String) {
        let fd = try connect(path)
        defer { close(fd) }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array((request + "\n").utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw .failed("cannot send to \(path): \(String(cString: strerror(errno)))")
        }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw .failed("no answer from \(path): \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            reply += chunk[0..<count]
        }
        guard let newline = reply.firstIndex(of: UInt8(ascii: "\n")), let status = Int32(String(decoding: reply[..<newline], as: UTF8.self))
        else { throw .failed("\(path) answered something that is not coderdns's") }
        return (status, String(decoding: reply[(newline + 1)...], as: UTF8.self))
    }

    /// Whether a server answers on `path` (for a server deciding whether a leftover socket
    /// file may be replaced).
    static func isAnswering(_ path: String) -> Bool {
        guard let fd = try? connect(path) else { return false }
        close(fd)
        return true
    }

    private static func connect(_ path: String) throws(Failure) -> Int32 {
        var address = sockaddr_un()
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else { throw .failed("\(path): too long for a unix socket") }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes + [0]) }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .failed("cannot open a socket: \(String(cString: strerror(errno)))") }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let error = errno
            close(fd)
            if error == ENOENT || error == ECONNREFUSED { throw .notRunning(path) }
            throw .failed("cannot connect to \(path): \(String(cString: strerror(error)))")
        }
        return fd
    }
}
