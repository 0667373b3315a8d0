import ControlPlane
import RecordStore
import Testing

@testable import CoderClient

@Suite("Reading coderd's JSON and saying what its errors mean")
struct CoderResponseTests {
    @Test func usersMeGivesTheIdAndTheUserName() throws {
        let body = Array(
            #"{"id":"497f6eca-6276-4993-bfeb-53cbbbba6f08","username":"alice","email":"a@example.com","roles":[{"name":"member"}],"organization_ids":[]}"#
                .utf8)
        let user = try CoderJSON.user(body)
        #expect(user.id == Identifier(string: "497f6eca-6276-4993-bfeb-53cbbbba6f08"))
        #expect(user.username == "alice")
        #expect(throws: (any Error).self) { try CoderJSON.user(Array(#"{"username":"alice"}"#.utf8)) }
        #expect(throws: (any Error).self) { try CoderJSON.user(Array(#"{"id":"nope","username":"alice"}"#.utf8)) }
    }

    @Test func anEmptyHostnameSuffixMeansCoder() throws {
        #expect(try CoderJSON.hostnameSuffix(Array(#"{"derp_map":{"Regions":{}},"hostname_suffix":""}"#.utf8)) == "coder")
        #expect(try CoderJSON.hostnameSuffix(Array(#"{"derp_map":null}"#.utf8)) == "coder")
        #expect(try CoderJSON.hostnameSuffix(Array(#"{"hostname_suffix":"ws.corp"}"#.utf8)) == "ws.corp")
    }

    static let url = try! CoderURL("https://coder.example.com")

    @Test func a401SaysSignInAgainWithCodersOwnWordsAndBacksOffToTheMaximum() {
        let body = Array(
            #"{"message":"You are signed out or your session has expired. Please sign in again to continue.","detail":"API key expired at 2026-01-01."}"#
                .utf8)
        let failure = CoderFailure.status(401, body: body, request: "/api/v2/users/me", url: Self.url)
        #expect(failure.isPermanent)
        #expect(failure.message.hasPrefix("HTTP 401 from https://coder.example.com/api/v2/users/me"))
        #expect(failure.message.contains("API key expired at 2026-01-01."))
        #expect(failure.message.hasSuffix("sign in again with `coder login`"))
    }

    @Test func anOldCoderdIsToldApartFromAServerError() {
        let old = Array(
            #"{"message":"Unknown or unsupported API version","validations":[{"field":"version","detail":"server is at version 2.2, behind requested minor version 2.3"}]}"#
                .utf8)
        let failure = CoderFailure.status(400, body: old, request: "/api/v2/tailnet?version=2.3", url: Self.url)
        #expect(failure.isPermanent)
        #expect(failure.message.contains("version: server is at version 2.2"))
        #expect(failure.message.contains("needs Coder v2.18 or later"))
        let conflict = CoderFailure.status(
            409, body: Array(#"{"message":"Non-browser connections are disabled for your deployment."}"#.utf8), request: "", url: Self.url)
        #expect(conflict.isPermanent)
        #expect(conflict.message.contains("non-browser connections"))
        let internalError = CoderFailure.status(503, body: Array("<html>bad gateway</html>".utf8), request: "", url: Self.url)
        #expect(internalError.isPermanent == false)
        #expect(internalError.message.contains("<html>bad gateway</html>"))
    }
}
