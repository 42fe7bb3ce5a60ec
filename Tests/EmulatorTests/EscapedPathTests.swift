import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// Port's entity identifiers may hold "/" (its OpenAPI document's pattern allows it), so a
/// client writes it as %2F in a path: the emulator must read it as part of the identifier,
/// not as a separator (libmicrohttpd's own unescaping did, before the path was routed).
@Suite("Escaped slashes in Port's paths", .heavy, .timeLimit(.minutes(10)))
struct EscapedPathTests {
    @Test("an entity whose identifier holds a slash is read and deleted through %2F; /v1/blueprints/%2F is no list")
    func entityWithSlash() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.fixtures = try Fixtures.load(from: EmulatorHarness.fixturesDirectory)
        try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            let client = JSONTestClient(baseURL: emulator.info.apiBaseURL)
            let token = try await client.token(
                clientID: "emulator-client-id",
                clientSecret: EmulatorConfiguration.defaultClientSecret
            )
            let created = try await client.call(
                "POST",
                "/v1/blueprints/service/entities",
                token: token,
                body: #"{"identifier":"payments/api","title":"Payments API","properties":{"replicas":2}}"#
            )
            #expect(created.status == 201, "\(created.json.compactText)")

            let read = try await client.call("GET", "/v1/blueprints/service/entities/payments%2Fapi", token: token)
            #expect(read.status == 200, "\(read.json.compactText)")
            #expect(read.json["entity"]?["identifier"] == "payments/api")

            // A lone %2F names a blueprint "/", which does not exist: a 404, not the list
            // of blueprints that "/v1/blueprints/" would be.
            let slash = try await client.call("GET", "/v1/blueprints/%2F", token: token)
            #expect(slash.status == 404, "\(slash.json.compactText)")
            #expect(slash.json["blueprints"] == nil)

            let deleted = try await client.call(
                "DELETE",
                "/v1/blueprints/service/entities/payments%2Fapi",
                token: token
            )
            #expect(deleted.status == 200, "\(deleted.json.compactText)")
            #expect(throws: (any Error).self) { try emulator.runs.entity("payments/api", of: "service") }
        }
    }
}
