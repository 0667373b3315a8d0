import Glibc

/// The session token: a secret. It has no description of its own, so it cannot end up in a
/// log line or an error message by interpolation.
public struct SessionToken: Sendable, Equatable, CustomStringConvertible {
    let value: String
    public init(_ value: String) { self.value = value }
    public var description: String { "(session token)" }
}

/// Where the deployment and the login come from: what `coder login` left behind, unless the
/// command line or the environment says otherwise.
///
/// The URL: `--coder-url`, else `CODER_URL`, else the CLI's `url` file. The token:
/// `--session-token-file`, else `CODER_SESSION_TOKEN`, else the CLI's `session` file. The
/// CLI's directory is `CODER_CONFIG_DIR`, else `$XDG_CONFIG_HOME/coderv2`, else
/// `~/.config/coderv2` (the Coder CLI's own order on Linux, `cli/root.go`, `configdir`).
/// Files are read whole with surrounding whitespace trimmed, as the CLI reads them.
public struct CoderLogin: Sendable {
    public var url: CoderURL
    public var token: SessionToken
    /// Where the URL came from, for the start-up line ("--coder-url", a file's path, ...).
    public var urlSource: String
    /// Where the token came from (never the token).
    public var tokenSource: String
    /// Things a person should know but that do not stop the server (a token file others can read).
    public var warnings: [String]

    public struct LoginError: Error, Equatable, CustomStringConvertible {
        public let description: String
    }

    /// - Parameters:
    ///   - environment: looks up an environment variable (tests pass their own).
    ///   - home: the home directory, for `~/.config`.
    public static func discover(
        urlFlag: String?, tokenFile: String?, environment: (String) -> String? = Self.processEnvironment, home: String? = nil
    ) throws(LoginError) -> CoderLogin {
        let directory = configDirectory(environment: environment, home: home ?? environment("HOME"))
        var warnings: [String] = []

        let urlText: String
        let urlSource: String
        if let urlFlag {
            (urlText, urlSource) = (urlFlag, "--coder-url")
        } else if let value = environment("CODER_URL"), !value.trimmingWhitespace.isEmpty {
            (urlText, urlSource) = (value, "CODER_URL")
        } else if let directory, let contents = try readSmallFile(directory + "/url", optional: true) {
            (urlText, urlSource) = (contents, directory + "/url")
        } else {
            throw LoginError(
                description:
                    "no deployment URL: pass --coder-url, set CODER_URL, or sign in with `coder login` (looked for \(directory.map { $0 + "/url" } ?? "the Coder CLI's url file"))"
            )
        }
        let url: CoderURL
        do {
            url = try CoderURL(urlText)
        } catch {
            throw LoginError(description: "\(urlSource): \(error)")
        }

        let tokenText: String
        let tokenSource: String
        if let tokenFile {
            guard let contents = try readSmallFile(tokenFile, optional: false) else {
                throw LoginError(description: "--session-token-file \(tokenFile): cannot read it")
            }
            (tokenText, tokenSource) = (contents, tokenFile)
            try refuseWritable(tokenFile)
            if let warning = exposure(of: tokenFile) { warnings.append(warning) }
        } else if let value = environment("CODER_SESSION_TOKEN"), !value.trimmingWhitespace.isEmpty {
            (tokenText, tokenSource) = (value, "CODER_SESSION_TOKEN")
        } else if let directory, let contents = try readSmallFile(directory + "/session", optional: true) {
            (tokenText, tokenSource) = (contents, directory + "/session")
            try refuseWritable(directory + "/session")
            if let warning = exposure(of: directory + "/session") { warnings.append(warning) }
        } else {
            throw LoginError(
                description:
                    "no session token: sign in with `coder login`, pass --session-token-file, or set CODER_SESSION_TOKEN (looked for \(directory.map { $0 + "/session" } ?? "the Coder CLI's session file"))"
            )
        }
        let token = tokenText.trimmingWhitespace
        guard !token.isEmpty else { throw LoginError(description: "\(tokenSource): the session token is empty") }
        guard token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw LoginError(description: "\(tokenSource): the session token has characters a token cannot have")
        }
        return CoderLogin(url: url, token: SessionToken(token), urlSource: urlSource, tokenSource: tokenSource, warnings: warnings)
    }

    @Sendable public static func processEnvironment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The Coder CLI's configuration directory on Linux.
    public static func configDirectory(environment: (String) -> String?, home: String?) -> String? {
        if let value = environment("CODER_CONFIG_DIR"), !value.isEmpty { return value }
        if let value = environment("XDG_CONFIG_HOME"), !value.isEmpty { return value + "/coderv2" }
        if let home, !home.isEmpty { return home + "/.config/coderv2" }
        return nil
    }

    /// A token file others can write to lets them choose whose session the server uses:
    /// refused, where one others can only read gets a warning (``exposure(of:)``).
    static func refuseWritable(_ path: String) throws(LoginError) {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & 0o022 != 0 else { return }
        let mode = String(status.st_mode & 0o777, radix: 8)
        throw LoginError(description: "\(path) holds the session token and is writable by other users (mode \(mode)): chmod 600 it")
    }

    /// A warning when `path` may be read by users other than its owner.
    static func exposure(of path: String) -> String? {
        var status = stat()
        guard stat(path, &status) == 0, status.st_mode & 0o077 != 0 else { return nil }
        let mode = String(status.st_mode & 0o777, radix: 8)
        return "\(path) holds the session token and is readable by other users (mode \(mode)): chmod 600 it"
    }

    /// A file's text (at most 64 KiB), nil when it does not exist and `optional`.
    static func readSmallFile(_ path: String, optional: Bool) throws(LoginError) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if optional && errno == ENOENT { return nil }
            throw LoginError(description: "\(path): cannot read: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw LoginError(description: "\(path): cannot read: \(String(cString: strerror(errno)))") }
            if count == 0 { break }
            bytes += chunk[0..<count]
            guard bytes.count <= 1 << 16 else { throw LoginError(description: "\(path): too large to be what `coder login` writes") }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
