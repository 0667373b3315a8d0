import ControlPlane
import NIOCore
import NIOPosix
import NIOSSL
import RecordStore

#if canImport(Glibc)
    import Glibc
#endif

/// The one log line for each way talking to coderd fails (docs/coder.md lists them all).
enum CoderFailure {
    /// A status other than the one expected, with coderd's JSON body (`message`, `detail`,
    /// `validations`) when it has one.
    static func status(_ status: Int, body: [UInt8], request: String, url: CoderURL) -> FeedFailure {
        let said = describeBody(body)
        let from = "HTTP \(status) from \(url)\(request)"
        let suffix = said.isEmpty ? "" : " (\(said))"
        switch status {
        case 401:
            return FeedFailure("\(from)\(suffix): sign in again with `coder login`", isPermanent: true)
        case 403:
            return FeedFailure("\(from)\(suffix): the deployment refuses this client", isPermanent: true)
        case 400, 404:
            return FeedFailure("\(from)\(suffix): coderdns needs Coder v2.18 or later (tailnet API 2.3)", isPermanent: true)
        case 409:
            return FeedFailure(
                "\(from)\(suffix): the deployment disables non-browser connections (an administrator setting)", isPermanent: true)
        case 500...599:
            return FeedFailure("\(from)\(suffix): coderd has a problem; retrying")
        default:
            return FeedFailure("\(from)\(suffix)")
        }
    }

    /// coderd's `{"message": ..., "detail": ..., "validations": [{"field", "detail"}]}` as one
    /// phrase; a body that is not that JSON is quoted (its first line, shortened).
    static func describeBody(_ body: [UInt8]) -> String {
        guard !body.isEmpty else { return "" }
        if let response = try? CoderJSON.response(body) {
            var parts: [String] = []
            if let message = response.message, !message.isEmpty { parts.append(message) }
            if let detail = response.detail, !detail.isEmpty { parts.append(detail) }
            for (field, detail) in response.validations { parts.append("\(field): \(detail)") }
            if !parts.isEmpty { return parts.joined(separator: " ") }
        }
        let text = String(decoding: body.prefix(200), as: UTF8.self)
        let line = text.split(separator: "\n").first.map(String.init) ?? ""
        return line.filter { $0.isASCII && !$0.isNewline }
    }

    /// A failure below HTTP: the name, the connection, TLS.
    static func transport(_ error: any Error, place: String) -> FeedFailure {
        if let error = error as? NIOConnectionError {
            if error.connectionErrors.isEmpty, let dns = error.dnsAAAAError ?? error.dnsAError {
                return FeedFailure("cannot resolve the deployment's host \(error.host): \(dns)")
            }
            if let first = error.connectionErrors.first {
                return transport(first.error, place: place)
            }
            return FeedFailure("cannot connect to \(place): \(error)")
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED: return FeedFailure("connection refused by \(place)", severity: .routine)
            case ETIMEDOUT: return FeedFailure("timed out connecting to \(place)", severity: .routine)
            case ENETUNREACH, EHOSTUNREACH: return FeedFailure("no route to \(place)", severity: .routine)
            case ECONNRESET: return FeedFailure("connection to \(place) was reset", severity: .routine)
            default: return FeedFailure("connection to \(place) failed: \(error)")
            }
        }
        if let error = error as? ChannelError {
            switch error {
            case .connectTimeout: return FeedFailure("timed out connecting to \(place)", severity: .routine)
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed:
                return FeedFailure("connection to \(place) closed", severity: .routine)
            default: return FeedFailure("connection to \(place) failed: \(error)")
            }
        }
        if let error = error as? NIOSSLError {
            let text = "\(error)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                return FeedFailure(
                    "TLS verification failed for \(place): the server's certificate is not trusted (\(text)); for a private CA pass --coder-ca-file",
                    isPermanent: true)
            }
            if case .uncleanShutdown = error { return FeedFailure("connection to \(place) closed without a TLS close", severity: .routine) }
            return FeedFailure("TLS with \(place) failed: \(text)")
        }
        if let error = error as? NIOSSLExtraError {
            return FeedFailure("TLS verification failed for \(place): \(error)", isPermanent: true)
        }
        if let error = error as? FeedFailure { return error }
        return FeedFailure("talking to \(place) failed: \(error)")
    }
}
