import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// Fixtures of part II of the catalog: teams, users, scorecards and entities load with the
/// blueprints, show through Port's API, and are what a reset goes back to; a fixture that
/// refers to what no fixture defines is refused naming the file.
@Suite("Teams, users, scorecards and entities from fixtures", .heavy, .timeLimit(.minutes(10)))
struct OrganizationFixturesTests {
    /// The repository's fixtures plus one file of each new kind, in a temporary directory.
    static func fixtures(entities: String, vms: String = "[]") throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("org-fixtures-\(UUID())").path
        try FileManager.default.copyItem(atPath: EmulatorHarness.fixturesDirectory, toPath: directory)
        let files = [
            "teams/platform.json": #"{"name": "platform", "users": ["ada@example.com"], "description": "Platform"}"#,
            "users/people.json": #"[{"email": "ada@example.com", "firstName": "Ada"}, {"email": "bob@example.com"}]"#,
            "scorecards/service.readiness.json": #"""
            {"identifier": "readiness", "title": "Readiness", "blueprint": "service",
             "rules": [{"identifier": "replicated", "title": "Replicated", "level": "Gold",
                        "query": {"combinator": "and", "conditions": [{"property": "replicas", "operator": ">", "value": 1}]}}]}
            """#,
            "entities/service.json": entities,
            "entities/vm.json": vms,
        ]
        for (path, text) in files {
            let url = URL(fileURLWithPath: directory + "/" + path)
            try FileManager.default.createDirectory(
                at: url.deletingLastPathComponent(),
                withIntermediateDirectories: true
            )
            try text.write(to: url, atomically: true, encoding: .utf8)
        }
        return directory
    }

    @Test("they show through the API, entities are scored, and a reset goes back to them")
    func loadedAndReset() async throws {
        let directory = try Self.fixtures(
            entities: #"""
                [{"identifier": "api", "title": "API", "team": "platform", "properties": {"replicas": 3}},
                 {"identifier": "web", "properties": {"replicas": 1}}]
                """#
        )
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.fixtures = try Fixtures.load(from: directory)
        try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            let client = JSONTestClient(baseURL: emulator.info.apiBaseURL)
            let token = try await client.token(
                clientID: "emulator-client-id",
                clientSecret: EmulatorConfiguration.defaultClientSecret
            )
            let team = try await client.call("GET", "/v1/teams/platform", token: token)
            #expect(
                team.json["team"]?["users"]?.arrayValue?.first?["email"] == "ada@example.com",
                "\(team.json.compactText)"
            )
            let ada = try await client.call("GET", "/v1/users/ada@example.com", token: token)
            #expect(ada.json["user"]?["teams"] == ["platform"])
            let api = try await client.call("GET", "/v1/blueprints/service/entities/api", token: token)
            #expect(api.json["entity"]?["scorecards"]?["readiness"]?["level"] == "Gold", "\(api.json.compactText)")
            #expect(api.json["entity"]?["team"] == "platform")
            let web = try await client.call("GET", "/v1/blueprints/service/entities/web", token: token)
            #expect(web.json["entity"]?["scorecards"]?["readiness"]?["level"] == "Basic")
            // Teams exist, so an entity's team must name one.
            let ghost = try await client.call(
                "POST",
                "/v1/blueprints/service/entities",
                token: token,
                body: #"{"identifier": "x", "team": "ghosts", "properties": {"replicas": 1}}"#
            )
            #expect(ghost.status == 404, "\(ghost.json.compactText)")
            _ = try await client.call("DELETE", "/v1/blueprints/service/entities/api", token: token)
            _ = try await client.call("DELETE", "/v1/teams/platform", token: token)
            _ = try await client.call("POST", "/_emulator/reset", token: nil, body: "{}")
            let again = try await client.call("GET", "/v1/blueprints/service/entities/api", token: token)
            #expect(again.status == 200, "a reset goes back to the fixtures' entities")
            let teams = try await client.call("GET", "/v1/teams", token: token)
            #expect(teams.json["teams"]?.arrayValue?.count == 1)
        }
    }

    @Test("an entity fixture that names a missing team, or relates to an entity no fixture defines, is refused")
    func refused() async throws {
        let relating =
            #"[{"identifier": "vm-1", "properties": {"cpu": 1, "region": "eu"}, "relations": {"service": "nowhere"}}]"#
        for (entities, vms, expected) in [
            (
                #"[{"identifier": "api", "team": "ghosts", "properties": {"replicas": 1}}]"#, "[]",
                "entities/service.json"
            ),
            ("[]", relating, "entities/vm.json"),
        ] {
            let directory = try Self.fixtures(entities: entities, vms: vms)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            var configuration = EmulatorConfiguration()
            configuration.port = 0
            configuration.fixtures = try Fixtures.load(from: directory)
            await #expect {
                try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { _ in }
            } throws: { error in
                "\(error)".contains(expected) && ("\(error)".contains("ghosts") || "\(error)".contains("nowhere"))
            }
        }
    }
}
