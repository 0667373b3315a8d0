import ArgumentParser
import DNSWire
import EventIO

#if canImport(Glibc)
    import Glibc
#endif

/// `coderdns doctor`: checks, on the machine it runs on, that coderdns answers on its address
/// and that the operating system sends `.coder` names to it, and says what to fix.
///
/// It asks the server directly (UDP and TCP, the sentinel's AAAA with EDNS), then asks the
/// OS the way every program does (getaddrinfo), and on systemd-resolved machines reads
/// `resolvectl` to point at the link that should carry `~coder`. Exit status 1 when anything
/// is wrong.
struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check that this machine reaches coderdns and routes .coder names to it, and say what to fix."
    )

    @Option(help: ArgumentHelp("The server to check, [v6-address]:port or v4-address:port.", valueName: "address"))
    var server: String = ServeCommand.defaultListen

    @Option(help: ArgumentHelp("The DNS suffix the server serves.", valueName: "suffix"))
    var suffix: String = "coder"

    @Option(help: ArgumentHelp("Seconds to wait for each answer.", valueName: "seconds"))
    var timeout: Double = 2

    @Flag(help: "Only check the server itself, not how the operating system routes names to it.")
    var skipOsRouting = false

    /// `fd60:627a:a42b::/48`, Coder's service prefix: a sentinel answer outside it means
    /// "Coder Connect is not running" to every client.
    static let servicePrefix: [UInt8] = [0xFD, 0x60, 0x62, 0x7A, 0xA4, 0x2B]

    func validate() throws {
        do {
            _ = try SocketAddress(server)
        } catch {
            throw ValidationError("--server: \(error)")
        }
        do {
            _ = try DomainName(sentinelName)
        } catch {
            throw ValidationError("--suffix: \(error)")
        }
        guard timeout > 0, timeout <= 60 else { throw ValidationError("--timeout must be between 0 and 60 seconds") }
    }

    var sentinelName: String { "is.coder--connect--enabled--right--now.\(suffix)" }

    func run() throws {
        let address = try SocketAddress(server)
        var report = DoctorReport()
        print("coderdns doctor: server \(address.text), suffix .\(suffix)")

        let direct = checkServer(address, report: &report)
        if skipOsRouting {
            report.info("operating system routing not checked (--skip-os-routing)")
        } else {
            checkOperatingSystem(address, serverWorks: direct, report: &report)
        }

        if report.problems == 0 {
            print("No problems found.")
        } else {
            print("\(report.problems) problem\(report.problems == 1 ? "" : "s") found.")
            throw ExitCode(1)
        }
    }

    // MARK: - The server itself

    /// UDP, TCP, EDNS and the sentinel's answer. True when the sentinel answered correctly.
    private func checkServer(_ address: SocketAddress, report: inout DoctorReport) -> Bool {
        let name = (try? DomainName(sentinelName)) ?? .root
        var sentinelOK = false
        var udpAnswered = false
        for transport in [DoctorProbe.Transport.udp, .tcp] {
            let query = DoctorProbe.query(id: UInt16.random(in: 1...0xFFFF), name: name, type: .aaaa)
            switch DoctorProbe.send(query, to: address, over: transport, timeout: timeout) {
            case .failed(let reason):
                report.problem(
                    "\(transport.rawValue): no answer from \(address.text): \(reason)",
                    fix: transport == .tcp && udpAnswered
                        ? "UDP works but TCP does not: allow TCP port \(address.port) to \(address.text) (resolvers retry long answers over TCP)"
                        : unreachableFix(address, reason: reason))
            case .answered(let reply, let milliseconds):
                if transport == .udp { udpAnswered = true }
                let rcode = reply.rcode
                report.ok("\(transport.rawValue): \(address.text) answered \(sentinelName) AAAA: \(rcode) in \(formatted(milliseconds)) ms")
                if transport == .udp {
                    if reply.edns == nil {
                        report.problem(
                            "EDNS: the reply to an EDNS query has no OPT record",
                            fix: "systemd-resolved stops using EDNS with such a server for 5 minutes or more; is this coderdns?")
                    } else {
                        report.ok("EDNS: the reply carries an OPT record (systemd-resolved keeps using EDNS)")
                    }
                }
                // The sentinel is judged once, from the first transport that answered.
                if transport == .udp || !udpAnswered {
                    sentinelOK = checkSentinel(reply, address: address, report: &report)
                }
            }
        }
        return sentinelOK
    }

    /// The sentinel must resolve to an address inside `fd60:627a:a42b::/48`.
    private func checkSentinel(_ reply: Message, address: SocketAddress, report: inout DoctorReport) -> Bool {
        let rcode = reply.rcode
        let addresses = reply.answers.compactMap { record -> [UInt8]? in
            if case .aaaa(let bytes) = record.data { return bytes }
            return nil
        }
        guard rcode == .noError, !addresses.isEmpty else {
            switch rcode {
            case .serverFailure:
                report.problem(
                    "sentinel: SERVFAIL: coderdns runs but has no workspace data yet",
                    fix: "check that the control plane is reachable (or the --snapshot file exists) and read the server's log: journalctl -u coderdns"
                )
            case .nameError:
                report.problem(
                    "sentinel: NXDOMAIN for \(sentinelName)",
                    fix: "this server does not serve the sentinel: is it coderdns, and does it serve --suffix \(suffix)?")
            case .refused:
                report.problem(
                    "sentinel: REFUSED: the server does not serve .\(suffix)",
                    fix: "pass doctor the same --suffix as `coderdns serve`, or point .\(suffix) at coderdns")
            default:
                report.problem("sentinel: \(rcode) with \(addresses.count) addresses", fix: "read the server's log: journalctl -u coderdns")
            }
            return false
        }
        let texts = addresses.map(DoctorSystemResolver.text).joined(separator: " ")
        guard addresses.contains(where: { Array($0.prefix(6)) == Self.servicePrefix }) else {
            report.problem(
                "sentinel: \(sentinelName) -> \(texts), outside fd60:627a:a42b::/48 (clients take that as \"Coder Connect is not running\")",
                fix: "another server answers for .\(suffix) at \(address.text); stop it and run coderdns there")
            return false
        }
        report.ok("sentinel: \(sentinelName) -> \(texts), inside fd60:627a:a42b::/48")
        return true
    }

    private func unreachableFix(_ address: SocketAddress, reason: String) -> String {
        let route = address.family == .v6 ? "ip -6 route get \(address.addressBytesText)" : "ip route get \(address.addressBytesText)"
        if reason.contains("nothing listens") {
            return "start coderdns on \(address.text) (systemctl start coderdns; journalctl -u coderdns says why it stopped)"
        }
        return "is coderdns running (systemctl status coderdns), and does this machine route \(address.addressBytesText) to it? "
            + "With Coder Connect the tunnel interface carries fd60:627a:a42b::/48: check it is up and `\(route)` names it"
    }

    // MARK: - The operating system

    private func checkOperatingSystem(_ address: SocketAddress, serverWorks: Bool, report: inout DoctorReport) {
        let resolvectl = DoctorProcess.find("resolvectl")
        var resolvedLinks: [ResolvedLink]?
        if let resolvectl, let status = DoctorProcess.run(resolvectl, ["status", "--no-pager"]), status.status == 0 {
            resolvedLinks = ResolvedLink.parse(status: status.text)
        }

        var routed = false
        switch DoctorSystemResolver.lookUp(sentinelName) {
        case .failed(let reason):
            report.problem(
                "OS resolver: getaddrinfo(\(sentinelName)) failed: \(reason)",
                fix: resolvedLinks == nil ? noResolvedFix(address) : nil)
        case .addresses(let addresses):
            let texts = addresses.map(DoctorSystemResolver.text).joined(separator: " ")
            if addresses.contains(where: { $0.count == 16 && Array($0.prefix(6)) == Self.servicePrefix }) {
                routed = true
                report.ok("OS resolver: getaddrinfo(\(sentinelName)) -> \(texts)")
            } else {
                report.problem(
                    "OS resolver: getaddrinfo(\(sentinelName)) -> \(texts), not coderdns's answer",
                    fix:
                        "another resolver answers .\(suffix) names on this machine (a wildcard upstream or a hosts entry); route .\(suffix) to \(address.addressBytesText)"
                )
            }
        }

        guard let links = resolvedLinks, let resolvectl else {
            if resolvedLinks == nil {
                let servers = DoctorSystemResolver.resolvConfNameServers()
                report.info(
                    "systemd-resolved: not running here\(resolvectl == nil ? " (no resolvectl)" : ""); /etc/resolv.conf names \(servers.isEmpty ? "no name server" : servers.joined(separator: " "))"
                )
            }
            return
        }
        checkResolved(links, resolvectl: resolvectl, address: address, routed: routed, report: &report)
    }

    /// Which link carries `~suffix`, whether it points at the server, and its DNSSEC and
    /// default-route settings.
    private func checkResolved(_ links: [ResolvedLink], resolvectl: String, address: SocketAddress, routed: Bool, report: inout DoctorReport) {
        let serverText = address.addressBytesText
        let routing = links.filter { $0.name != "Global" && $0.routes(suffix) }
        guard !routing.isEmpty else {
            report.problem(
                "systemd-resolved: no link has the routing domain ~\(suffix)",
                fix: "on the tunnel interface (LINK): resolvectl dns LINK \(serverText); resolvectl domain LINK '~\(suffix)'; "
                    + "resolvectl default-route LINK false; resolvectl dnssec LINK no (or install dist/coder-tunnel.network, see docs/setup-linux.md)"
            )
            return
        }
        for link in routing {
            let domains = link.domains.joined(separator: " ")
            let servers = link.dnsServers.joined(separator: " ")
            if link.dnsServers.contains(where: { Self.sameAddress($0, serverText) }) {
                report.ok("systemd-resolved: link \(link.name) has DNS \(servers) and domain \(domains)")
            } else {
                report.problem(
                    "systemd-resolved: link \(link.name) routes \(domains) to \(servers.isEmpty ? "no server" : servers), not \(serverText)",
                    fix: "resolvectl dns \(link.name) \(serverText)")
            }
            if let mode = link.dnssecMode, mode != "no" {
                let message = "systemd-resolved: DNSSEC=\(mode) on link \(link.name): coderdns's answers are unsigned and fail validation"
                let fix = "resolvectl dnssec \(link.name) no"
                if routed { report.warning(message, fix: fix) } else { report.problem(message, fix: fix) }
            }
            if link.isDefaultRoute {
                report.warning(
                    "systemd-resolved: link \(link.name) is a default route: names outside .\(suffix) may go to coderdns, which refuses them",
                    fix: "resolvectl default-route \(link.name) false")
            }
        }
        // Which link resolved actually used for the sentinel.
        if let query = DoctorProcess.run(resolvectl, ["query", "--legend=no", "-t", "AAAA", sentinelName], timeout: timeout * 3 + 5) {
            let line = query.text.split(separator: "\n").first.map(String.init) ?? ""
            if query.status == 0, let link = line.split(separator: " -- link: ").dropFirst().first {
                report.ok("systemd-resolved: resolvectl query \(sentinelName) answered via link \(link)")
                if !routed {
                    let servers = DoctorSystemResolver.resolvConfNameServers()
                    report.problem(
                        "systemd-resolved answers, but programs do not ask it: /etc/resolv.conf names \(servers.isEmpty ? "no name server" : servers.joined(separator: " "))",
                        fix: "ln -sf /run/systemd/resolve/stub-resolv.conf /etc/resolv.conf (nameserver 127.0.0.53), "
                            + "or put `resolve` before `dns` on the hosts line of /etc/nsswitch.conf")
                }
            } else {
                report.info("systemd-resolved: resolvectl query \(sentinelName): \(line.isEmpty ? "exit status \(query.status)" : line)")
            }
        }
    }

    private func noResolvedFix(_ address: SocketAddress) -> String {
        let servers = DoctorSystemResolver.resolvConfNameServers()
        return "this machine has no systemd-resolved (name servers: \(servers.isEmpty ? "none" : servers.joined(separator: " "))); "
            + "route .\(suffix) to \(address.addressBytesText) with split DNS: see docs/setup-linux.md (dnsmasq server=/\(suffix)/\(address.addressBytesText))"
    }

    /// Compares an address as resolvectl prints it (`addr`, `addr%ifindex`, `addr#name`,
    /// `[addr]:port`) with an address in canonical text.
    static func sameAddress(_ printed: String, _ canonical: String) -> Bool {
        var text = Substring(printed)
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") { text = text[text.index(after: text.startIndex)..<close] }
        if let cut = text.firstIndex(where: { $0 == "%" || $0 == "#" }) { text = text[..<cut] }
        func bytes(_ string: String) -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: 16)
            if buffer.withUnsafeMutableBytes({ inet_pton(AF_INET6, string, $0.baseAddress) }) == 1 { return buffer }
            if buffer.withUnsafeMutableBytes({ inet_pton(AF_INET, string, $0.baseAddress) }) == 1 { return Array(buffer.prefix(4)) }
            return nil
        }
        guard let left = bytes(String(text)), let right = bytes(canonical) else { return false }
        return left == right
    }

    private func formatted(_ milliseconds: Double) -> String {
        let tenths = (milliseconds * 10).rounded()
        return "\(Int(tenths) / 10).\(Int(tenths) % 10)"
    }
}

extension SocketAddress {
    /// The address without port or brackets.
    var addressBytesText: String { DoctorSystemResolver.text(addressBytes) }
}
