import Foundation
import Testing

@testable import CoderClient

@Suite("Where the deployment and the login come from")
struct CoderLoginTests {
    /// A Coder CLI configuration directory with `url` and `session` files.
    final class ConfigDirectory {
        let path: String
        init(url: String?, session: String?, mode: Int = 0o600) throws {
            path = NSTemporaryDirectory() + "coderdns-login-\(UInt64.random(in: 0...UInt64.max))"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            if let url { try url.write(toFile: path + "/url", atomically: true, encoding: .utf8) }
            if let session {
                try session.write(toFile: path + "/session", atomically: true, encoding: .utf8)
                chmod(path + "/session", mode_t(mode))
            }
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func environment(_ values: [String: String]) -> (String) -> String? { { values[$0] } }

    @Test func theCLIsFilesAreUsedWithWhitespaceTrimmed() throws {
        let config = try ConfigDirectory(url: "https://coder.example.com\n", session: "  abcdefghij-secretsecret \n")
        let login = try CoderLogin.discover(urlFlag: nil, tokenFile: nil, environment: Self.environment(["CODER_CONFIG_DIR": config.path]))
        #expect(login.url.description == "https://coder.example.com")
        #expect(login.token == SessionToken("abcdefghij-secretsecret"))
        #expect(login.urlSource == config.path + "/url")
        #expect(login.tokenSource == config.path + "/session")
        #expect(login.warnings.isEmpty)
    }

    @Test func flagsWinOverTheEnvironmentWhichWinsOverFiles() throws {
        let config = try ConfigDirectory(url: "https://files.example.com", session: "from-file")
        let tokenFile = try ConfigDirectory(url: nil, session: "from-flag-file")
        let environment = Self.environment([
            "CODER_CONFIG_DIR": config.path, "CODER_URL": "https://env.example.com", "CODER_SESSION_TOKEN": "from-env",
        ])
        let fromEnvironment = try CoderLogin.discover(urlFlag: nil, tokenFile: nil, environment: environment)
        #expect(fromEnvironment.url.host == "env.example.com")
        #expect(fromEnvironment.token == SessionToken("from-env"))
        #expect(fromEnvironment.tokenSource == "CODER_SESSION_TOKEN")
        let fromFlags = try CoderLogin.discover(
            urlFlag: "http://flag.example.com:3000", tokenFile: tokenFile.path + "/session", environment: environment)
        #expect(fromFlags.url.host == "flag.example.com")
        #expect(fromFlags.url.port == 3000)
        #expect(fromFlags.token == SessionToken("from-flag-file"))
    }

    @Test func xdgConfigHomeComesBeforeHome() {
        let xdg = CoderLogin.configDirectory(environment: Self.environment(["XDG_CONFIG_HOME": "/x"]), home: "/home/a")
        #expect(xdg == "/x/coderv2")
        #expect(CoderLogin.configDirectory(environment: Self.environment([:]), home: "/home/a") == "/home/a/.config/coderv2")
        let explicit = CoderLogin.configDirectory(environment: Self.environment(["CODER_CONFIG_DIR": "/c", "XDG_CONFIG_HOME": "/x"]), home: "/h")
        #expect(explicit == "/c")
    }

    @Test func aTokenFileOthersCanReadGetsAWarning() throws {
        let config = try ConfigDirectory(url: "https://coder.example.com", session: "token-value", mode: 0o644)
        let login = try CoderLogin.discover(urlFlag: nil, tokenFile: nil, environment: Self.environment(["CODER_CONFIG_DIR": config.path]))
        #expect(login.warnings.count == 1)
        #expect(login.warnings.first?.contains("readable by other users (mode 644)") == true)
        #expect(login.warnings.first?.contains("token-value") == false)
    }

    @Test(arguments: [0o620, 0o602, 0o666])
    func aTokenFileOthersCanWriteIsRefused(mode: Int) throws {
        let config = try ConfigDirectory(url: "https://coder.example.com", session: "token-value", mode: mode)
        for tokenFile in [nil, config.path + "/session"] {
            #expect {
                try CoderLogin.discover(urlFlag: nil, tokenFile: tokenFile, environment: Self.environment(["CODER_CONFIG_DIR": config.path]))
            } throws: { error in
                let text = "\(error)"
                return text.contains("writable by other users (mode \(String(mode, radix: 8)))") && text.contains("chmod 600")
                    && !text.contains("token-value") && !text.contains("\n")
            }
        }
    }

    @Test func noLoginIsAClearErrorThatNamesWhereItLooked() throws {
        let config = try ConfigDirectory(url: nil, session: nil)
        #expect {
            try CoderLogin.discover(urlFlag: nil, tokenFile: nil, environment: Self.environment(["CODER_CONFIG_DIR": config.path]))
        } throws: { error in
            "\(error)".contains("no deployment URL") && "\(error)".contains(config.path + "/url")
        }
        #expect {
            try CoderLogin.discover(
                urlFlag: "https://coder.example.com", tokenFile: nil, environment: Self.environment(["CODER_CONFIG_DIR": config.path]))
        } throws: { error in
            "\(error)".contains("no session token") && "\(error)".contains("coder login")
        }
    }

    @Test func theTokenNeverAppearsWhenInterpolated() throws {
        let token = SessionToken("abcdefghij-verysecret")
        #expect("\(token)".contains("verysecret") == false)
        let login = try CoderLogin.discover(
            urlFlag: "https://c.example.com", tokenFile: nil, environment: Self.environment(["CODER_SESSION_TOKEN": "abcdefghij-verysecret"]))
        #expect("\(login)".contains("verysecret") == false)
    }
}

@Suite("Deployment URLs as `coder login` stores them")
struct CoderURLTests {
    @Test(arguments: [
        ("https://coder.example.com", true, "coder.example.com", 443, "", "coder.example.com"),
        ("https://coder.example.com/", true, "coder.example.com", 443, "", "coder.example.com"),
        ("http://127.0.0.1:3000", false, "127.0.0.1", 3000, "", "127.0.0.1:3000"),
        ("https://[::1]:8443/coder/", true, "::1", 8443, "/coder", "[::1]:8443"),
        ("HTTPS://Example.com:443", true, "Example.com", 443, "", "Example.com"),
    ])
    func parses(text: String, secure: Bool, host: String, port: Int, prefix: String, authority: String) throws {
        let url = try CoderURL(text)
        #expect(url.isSecure == secure)
        #expect(url.host == host)
        #expect(url.port == port)
        #expect(url.pathPrefix == prefix)
        #expect(url.authority == authority)
    }

    @Test(arguments: ["coder.example.com", "ftp://x", "https://", "https://user:pw@x.com", "https://x.com:0", "https://x.com:70000", "https://[::1"])
    func refuses(text: String) {
        #expect(throws: CoderURL.ParseError.self) { try CoderURL(text) }
    }

    @Test func addressesAreTold() throws {
        #expect(try CoderURL("https://127.0.0.1").hostIsAddress)
        #expect(try CoderURL("https://[fd00::1]").hostIsAddress)
        #expect(try CoderURL("https://coder.example.com").hostIsAddress == false)
    }
}
