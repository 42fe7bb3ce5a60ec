import ArgumentParser
import Emulator
import EmulatorCLI
import Foundation
import PortContract
import Synchronization
import Testing

/// A Port that answers from a function, recording every request.
final class FakePort: PortAPITransport {
    private let answer: @Sendable (PortAPIRequest) -> PortAPIResponse
    private let recorded = Mutex<[PortAPIRequest]>([])

    init(_ answer: @escaping @Sendable (PortAPIRequest) -> PortAPIResponse) {
        self.answer = answer
    }

    func send(_ request: PortAPIRequest) async throws(ImportError) -> PortAPIResponse {
        recorded.withLock { $0.append(request) }
        return answer(request)
    }

    var requests: [PortAPIRequest] { recorded.withLock { $0 } }

    /// Port's answers: a token for `secret`, these lists (404 for a kind not given) and
    /// entity pages.
    static func organization(
        secret: String = "a-long-client-secret",
        lists: [String: JSONValue],
        entities: @escaping @Sendable (_ blueprint: String, _ from: String?) -> JSONValue = { _, _ in
            ["ok": true, "entities": []]
        }
    ) -> FakePort {
        FakePort { request in
            let path = request.path.split(separator: "?").first.map(String.init) ?? request.path
            switch (request.method, path) {
            case ("POST", "/v1/auth/access_token"):
                guard request.body?["clientSecret"]?.stringValue == secret else {
                    return PortAPIResponse(status: 401, json: ["ok": false, "error": "unauthorized"])
                }
                return PortAPIResponse(status: 200, json: ["ok": true, "accessToken": "token-0123456789abcdef"])
            case ("GET", _):
                guard request.token == "token-0123456789abcdef" else { return PortAPIResponse(status: 401, json: [:]) }
                let key = String(path.dropFirst("/v1/".count))
                guard let list = lists[key] else {
                    return PortAPIResponse(status: 404, json: ["ok": false, "error": "not_found"])
                }
                var answer: JSONObject = ["ok": true]
                answer[key] = list
                return PortAPIResponse(status: 200, json: .object(answer))
            case ("POST", _) where path.hasSuffix("/entities/search"):
                let blueprint = path.dropFirst("/v1/blueprints/".count).dropLast("/entities/search".count)
                let decoded = String(blueprint).removingPercentEncoding ?? String(blueprint)
                return PortAPIResponse(status: 200, json: entities(decoded, request.body?["from"]?.stringValue))
            default:
                return PortAPIResponse(status: 404, json: ["ok": false, "error": "not_found"])
            }
        }
    }
}

/// Collects the progress lines of an import.
final class Lines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

func temporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "port-import-test-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func readJSON(_ path: String) throws -> JSONValue {
    try JSONValue.parse(Array(try #require(FileManager.default.contents(atPath: path))))
}

func files(in directory: String) -> [String] {
    ((try? FileManager.default.subpathsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
}

/// Runs an import against `port` into `output`.
func runImport(
    _ port: FakePort,
    output: String,
    force: Bool = false,
    entities: Bool = false,
    secret: String = "a-long-client-secret"
) async throws(ImportError) -> (summary: ImportSummary, progress: [String]) {
    var settings = PortImport.Settings(
        apiURL: "https://port.test",
        clientID: "id",
        clientSecret: secret,
        output: output
    )
    settings.force = force
    settings.entities = entities
    let lines = Lines()
    let summary = try await PortImport(settings: settings, transport: port, progress: { lines.append($0) }).run()
    return (summary, lines.all)
}

/// A blueprint relating to Port's `_user`, with a calculation and a mirror property.
let serviceBlueprint: JSONValue = [
    "identifier": "service", "title": "Service", "createdAt": "2024-01-01T00:00:00.000Z", "createdBy": "someone",
    "updatedAt": "2024-01-01T00:00:00.000Z", "updatedBy": "someone",
    "schema": ["properties": ["language": ["type": "string"]], "required": []],
    "relations": [
        "owner": ["title": "Owner", "target": "_user", "required": false, "many": false],
        "system": ["title": "System", "target": "system", "required": false, "many": false],
    ],
    "mirrorProperties": ["owner_email": ["path": "owner.$identifier"], "system_name": ["path": "system.$title"]],
    "calculationProperties": ["label": ["calculation": ".title + \"!\"", "type": "string"]],
    "aggregationProperties": [:],
]

let systemBlueprint: JSONValue = [
    "identifier": "system", "title": "System", "schema": ["properties": [:], "required": []], "relations": [:],
]

@Suite("import: Port's answers turned into a fixtures directory serve loads", .timeLimit(.minutes(10)))
struct PortImportTests {
    @Test("system blueprints, and what leads to them, are skipped with a line each; Port's stamps are not written")
    func systemBlueprints() async throws {
        let port = FakePort.organization(lists: [
            "blueprints": [
                ["identifier": "_user", "title": "User", "schema": ["properties": [:]]], serviceBlueprint,
                systemBlueprint,
            ],
            "actions": [
                [
                    "id": "action_123", "identifier": "invite", "createdAt": "2024-01-01T00:00:00.000Z",
                    "trigger": ["type": "self-service", "operation": "CREATE", "blueprintIdentifier": "_user"],
                    "invocationMethod": ["type": "KAFKA"],
                ],
                [
                    "id": "action_456", "identifier": "deploy", "title": "Deploy",
                    "trigger": [
                        "type": "self-service", "operation": "DAY-2", "blueprintIdentifier": "service",
                        "userInputs": ["properties": ["version": ["type": "string"]], "required": []],
                    ],
                    "invocationMethod": ["type": "KAFKA", "payload": ["token": "{{ .secrets.DEPLOY_TOKEN }}"]],
                ],
                [
                    "id": "action_789", "identifier": "announce",
                    "trigger": [
                        "type": "automation",
                        "event": ["type": "ENTITY_CREATED", "blueprintIdentifier": "service"],
                    ],
                    "invocationMethod": ["type": "KAFKA"],
                ],
            ],
        ])
        let output = try temporaryDirectory() + "/fixtures"
        let (summary, progress) = try await runImport(port, output: output)
        #expect(
            files(in: output) == [
                "actions/announce.json", "actions/deploy.json", "blueprints/service.json", "blueprints/system.json",
            ]
        )
        #expect(
            progress.contains(
                "blueprints: skipped Port's system blueprints _user (Port makes them in every organization)"
            )
        )
        #expect(
            progress.contains(
                "blueprint service: dropped relations.owner, mirrorProperties.owner_email (they lead to a system blueprint, which is not imported)"
            )
        )
        #expect(progress.contains("action invite: skipped: its blueprint _user is not imported"))
        #expect(progress.contains("blueprints: 2"))
        #expect(progress.contains("actions: 2 (1 automations)"))
        for kind in ["teams", "users", "scorecards"] {
            #expect(progress.contains("\(kind): GET /v1/\(kind) is not served by this Port; skipped"))
        }
        #expect(summary.line == "wrote \(output): 2 blueprints, 2 actions (1 automations)")

        let service = try readJSON(output + "/blueprints/service.json")
        for key in ["createdAt", "createdBy", "updatedAt", "updatedBy"] { #expect(service[key] == nil) }
        #expect(service["relations"]?["owner"] == nil)
        #expect(service["relations"]?["system"]?["target"] == "system")
        #expect(service["mirrorProperties"] == ["system_name": ["path": "system.$title"]])
        let deploy = try readJSON(output + "/actions/deploy.json")
        #expect(deploy["id"] == nil)
        #expect(deploy["invocationMethod"]?["payload"]?["token"] == "{{ .secrets.DEPLOY_TOKEN }}")
        // What serve loads.
        let fixtures = try Fixtures.load(from: output)
        #expect(fixtures.blueprints.map(\.identifier).sorted() == ["service", "system"])
        #expect(fixtures.actions.map(\.identifier).sorted() == ["announce", "deploy"])
    }

    @Test("entities come page by page, without stamps, computed properties or dropped relations")
    func entities() async throws {
        let port = FakePort.organization(
            lists: ["blueprints": [serviceBlueprint, systemBlueprint], "actions": [], "teams": [], "users": []],
            entities: { blueprint, from in
                guard blueprint == "service" else { return ["ok": true, "entities": []] }
                func entity(_ identifier: String) -> JSONValue {
                    [
                        "identifier": .string(identifier), "title": "T", "blueprint": "service", "team": ["platform"],
                        "createdAt": "2024-01-01T00:00:00.000Z", "createdBy": "x",
                        "updatedAt": "2024-01-01T00:00:00.000Z",
                        "updatedBy": "x",
                        "properties": ["language": "swift", "label": "T!", "owner_email": "a@b.c", "system_name": "S"],
                        "relations": ["owner": "a@b.c", "system": "core"],
                    ]
                }
                return from == nil
                    ? ["ok": true, "entities": [entity("b"), entity("a/1")], "next": "page-2"]
                    : ["ok": true, "entities": [entity("c")]]
            }
        )
        let output = try temporaryDirectory()
        let (summary, progress) = try await runImport(port, output: output, entities: true)
        #expect(progress.contains("entities of service: 3"))
        #expect(progress.contains("entities of system: 0"))
        #expect(progress.contains("teams: 0") && progress.contains("users: 0"))
        #expect(summary.counts[.entities] == 3)
        #expect(files(in: output).contains("entities/service.json"))
        #expect(!files(in: output).contains("entities/system.json"), "no file for a blueprint without entities")
        let searches = port.requests.filter { $0.path == "/v1/blueprints/service/entities/search" }
        #expect(searches.map { $0.body?["from"] } == [nil, "page-2"])
        #expect(searches.allSatisfy { $0.body?["limit"] == 1000 })
        let written = try readJSON(output + "/entities/service.json")
        #expect(written.arrayValue?.map { $0["identifier"] } == ["a/1", "b", "c"])
        #expect(
            written.arrayValue?.first
                == [
                    "identifier": "a/1", "title": "T", "blueprint": "service", "team": ["platform"],
                    "properties": ["language": "swift"], "relations": ["system": "core"],
                ]
        )
    }

    @Test("teams, users and scorecards are written one a file, named safely")
    func teamsUsersScorecards() async throws {
        let port = FakePort.organization(lists: [
            "blueprints": [systemBlueprint], "actions": [],
            "teams": [
                ["name": "Platform Team", "id": "team_1", "createdAt": "2024-01-01T00:00:00.000Z"], ["name": "ops/sre"],
            ],
            "users": [["email": "jane.doe+port@example.com", "firstName": "Jane", "updatedAt": "x"]],
            "scorecards": [
                ["identifier": "health", "blueprint": "system", "title": "Health", "rules": [], "id": "sc_1"],
                ["identifier": "security", "blueprint": "_user", "title": "Security", "rules": []],
            ],
        ])
        let output = try temporaryDirectory()
        let (_, progress) = try await runImport(port, output: output)
        #expect(
            files(in: output) == [
                "blueprints/system.json", "scorecards/system.health.json", "teams/Platform%20Team.json",
                "teams/ops%2Fsre.json", "users/jane.doe+port@example.com.json",
            ]
        )
        #expect(progress.contains("scorecard security of _user: skipped: its blueprint is not imported"))
        #expect(try readJSON(output + "/teams/Platform%20Team.json") == ["name": "Platform Team"])
        #expect(
            try readJSON(output + "/users/jane.doe+port@example.com.json") == [
                "email": "jane.doe+port@example.com", "firstName": "Jane",
            ]
        )
        #expect(
            try readJSON(output + "/scorecards/system.health.json")
                == ["identifier": "health", "blueprint": "system", "title": "Health", "rules": []]
        )
    }

    @Test("refused credentials are one line naming the API and the status; nothing is written")
    func refusedCredentials() async throws {
        let output = try temporaryDirectory() + "/out"
        let error = await #expect(throws: ImportError.self) {
            try await runImport(FakePort.organization(lists: [:]), output: output, secret: "wrong-secret-123")
        }
        #expect(
            error?.message
                == "https://port.test refused the client id and secret: POST /v1/auth/access_token answered 401 (unauthorized)"
        )
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("a file that would hold the client secret stops the import before anything is written")
    func secretInADefinition() async throws {
        let port = FakePort.organization(lists: [
            "blueprints": [],
            "actions": [
                [
                    "identifier": "leaky", "trigger": ["type": "self-service", "operation": "CREATE"],
                    "invocationMethod": ["type": "WEBHOOK", "url": "https://x.test/?key=a-long-client-secret"],
                ]
            ],
        ])
        let output = try temporaryDirectory() + "/out"
        let error = await #expect(throws: ImportError.self) { try await runImport(port, output: output) }
        #expect(
            error?.message == "actions/leaky.json would contain the client secret or the access token; nothing written"
        )
        #expect(!FileManager.default.fileExists(atPath: output))
    }

    @Test("what serve would refuse writes nothing; --force replaces the imported kinds and keeps the rest")
    func refusalAndForce() async throws {
        let output = try temporaryDirectory()
        try Data("keep me".utf8).write(to: URL(fileURLWithPath: output + "/README.md"))
        try FileManager.default.createDirectory(atPath: output + "/blueprints", withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: URL(fileURLWithPath: output + "/blueprints/stale.json"))

        let good = FakePort.organization(lists: ["blueprints": [systemBlueprint], "actions": []])
        let notEmpty = await #expect(throws: ImportError.self) { try await runImport(good, output: output) }
        #expect(
            notEmpty?.message.hasPrefix("--output \(output) is not empty; pass --force to replace its blueprints/")
                == true
        )
        #expect(good.requests.isEmpty, "refused before any call to Port")

        let broken = FakePort.organization(lists: [
            "blueprints": [
                [
                    "identifier": "a", "title": "A", "schema": ["properties": [:]],
                    "relations": ["b": ["target": "ghost", "many": false, "required": false]],
                ]
            ],
            "actions": [],
        ])
        let refused = await #expect(throws: ImportError.self) {
            try await runImport(broken, output: output, force: true)
        }
        #expect(refused?.message.hasPrefix("serve would refuse what Port answered, so nothing was written: ") == true)
        #expect(refused?.message.contains("ghost") == true, "\(refused?.message ?? "")")
        #expect(files(in: output) == ["blueprints/stale.json"], "the output is as it was")

        _ = try await runImport(good, output: output, force: true)
        #expect(files(in: output) == ["blueprints/system.json"])
        #expect(FileManager.default.contents(atPath: output + "/README.md") == Data("keep me".utf8))
        #expect(try FileManager.default.contentsOfDirectory(atPath: output).sorted() == ["README.md", "blueprints"])
    }

    @Test("file names: unsafe bytes as %XX, never hidden, unique where case is ignored, bounded")
    func fileNames() {
        var names = FileNames()
        #expect(names.unique(["a/b:c"]) == "a%2Fb%3Ac.json")
        #expect(names.unique(["."]) == "%2E.json")
        #expect(names.unique([".."]) == "%2E..json")
        #expect(names.unique(["Service"]) == "Service.json")
        #expect(names.unique(["service"]) == "service~2.json")
        #expect(names.unique(["svc", "health"]) == "svc.health.json")
        #expect(names.unique(["café"]) == "caf%C3%A9.json")
        let long = names.unique([String(repeating: "x", count: 1000)])
        #expect(long.utf8.count <= FileNames.maximumLength + 10 && long.hasSuffix(".json"))
        #expect(names.unique([String(repeating: "x", count: 1000)]) != long)
    }

    @Test("files are two-space indented with sorted keys and a final newline")
    func prettyText() {
        let value: JSONValue = ["b": [1, ["z": true, "a": nil]], "a": "x\"y", "c": [:], "d": []]
        #expect(
            value.prettyText == """
                {
                  "a": "x\\"y",
                  "b": [
                    1,
                    {
                      "a": null,
                      "z": true
                    }
                  ],
                  "c": {},
                  "d": []
                }

                """
        )
    }

    @Test("options: flags, then PORT_API_URL, PORT_CLIENT_ID and PORT_CLIENT_SECRET; the URL with or without /v1")
    func options() throws {
        let environment = ["PORT_CLIENT_ID": "env-id", "PORT_CLIENT_SECRET": "env-secret"]
        let defaults = try ImportOptions.parse(["--output", "out"]).settings(environment: environment)
        #expect(defaults.apiURL == "https://api.port.io")
        #expect(defaults.clientID == "env-id" && defaults.clientSecret == "env-secret")
        #expect(!defaults.force && !defaults.entities)
        let flagged = try ImportOptions.parse([
            "--output", "out", "--api-url", "http://127.0.0.1:5100/v1/", "--client-id", "a", "--client-secret", "b",
            "--force", "--entities",
        ]).settings(environment: environment)
        #expect(flagged.apiURL == "http://127.0.0.1:5100")
        #expect(flagged.clientID == "a" && flagged.clientSecret == "b" && flagged.force && flagged.entities)
        let fromEnvironment = try ImportOptions.parse(["--output", "out"]).settings(
            environment: environment.merging(["PORT_API_URL": "https://api.us.port.io/"]) { $1 }
        )
        #expect(fromEnvironment.apiURL == "https://api.us.port.io")
        #expect(throws: ImportError("no client secret: pass --client-secret or set PORT_CLIENT_SECRET")) {
            try ImportOptions.parse(["--output", "out", "--client-id", "a"]).settings(environment: [:])
        }
        #expect(
            throws: ImportError(
                "--api-url 'api.port.io' is not an http(s) URL of Port's API (e.g. https://api.port.io)"
            )
        ) {
            try ImportOptions.parse(["--output", "out", "--api-url", "api.port.io"]).settings(environment: environment)
        }
        #expect(throws: (any Error).self) { try ImportOptions.parse([]) }
    }
}
