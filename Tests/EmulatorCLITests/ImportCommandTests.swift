import ChildProcesses
import Emulator
import EmulatorCLI
import Foundation
import Logging
import PortContract
import TestSupport
import Testing

private let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// The repository's `fixtures/`.
private let repositoryFixtures = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("fixtures").path

/// Runs the built `port-emulator` with `arguments` and exactly `environment` (plus `PATH` and
/// the sanitizers' options).
private func portEmulator(
    _ arguments: [String],
    environment: [String: String] = [:]
) async throws -> (status: Int32, output: String, errors: String) {
    let path = BuiltProducts.directory + "/port-emulator"
    try #require(FileManager.default.isExecutableFile(atPath: path), "\(path) is missing: `swift build` first")
    let (termination, output, errors) = try await withDeadline(.seconds(120), "port-emulator \(arguments.first ?? "")")
    {
        try await ChildProcess.run(
            [path] + arguments,
            environment: environment.merging(
                // PATH, and the sanitizers' options of a make test-asan/test-tsan run (leak
                // detection off there, as for the test process itself).
                ProcessInfo.processInfo.environment.filter {
                    ["ASAN_OPTIONS", "TSAN_OPTIONS", "LSAN_OPTIONS"].contains($0.key)
                }
                .merging(["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]) { _, path in path },
                uniquingKeysWith: { mine, _ in mine }
            )
        )
    }
    return (termination.bySignal ? -termination.status : termination.status, output, errors)
}

/// Runs `body` with an emulator on a free port holding `fixtures`.
private func withEmulator<Value: Sendable>(
    _ fixtures: Fixtures,
    _ body: @escaping @Sendable (PortEmulator, JSONTestClient, String) async throws -> Value
) async throws -> Value {
    var configuration = EmulatorConfiguration()
    configuration.port = 0
    configuration.orgID = "org_import"
    configuration.fixtures = fixtures
    let (clientID, clientSecret) = (configuration.clientID, configuration.clientSecret)
    return try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
        let client = JSONTestClient(baseURL: emulator.info.apiBaseURL)
        let token = try await client.token(clientID: clientID, clientSecret: clientSecret)
        return try await body(emulator, client, token)
    }
}

/// A list answer without what Port stamps (and `serve` stamps again), in a stable order.
private func comparable(_ list: JSONValue?) -> [String] {
    (list?.arrayValue ?? []).map { item in
        var object = item.objectValue ?? [:]
        for key in PortImport.managedFields { object[key] = nil }
        return JSONValue.object(object).prettyText
    }.sorted()
}

/// A path segment with `/` and `:` escaped.
private func segment(_ text: String) -> String {
    text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
}

@Suite(
    "port-emulator import, through the real executable, against an emulator standing in for Port",
    .heavy,
    .timeLimit(.minutes(10))
)
struct ImportCommandTests {
    static let probe = "team:space/probe"

    /// What the test adds to emulator A through Port's API, beside the repository's fixtures.
    static func populate(_ client: JSONTestClient, token: String) async throws {
        func post(_ path: String, _ body: String) async throws {
            let answer = try await client.call("POST", path, token: token, body: body)
            #expect((200..<300).contains(answer.status), "POST \(path): \(answer.json.compactText)")
        }
        try await post(
            "/v1/blueprints",
            #"""
            {"identifier":"\#(probe)","title":"Probe","icon":"Cloud","description":"a blueprint with an unsafe identifier",
             "schema":{"properties":{"tier":{"type":"string","enum":["gold","silver"]},"replicas":{"type":"number"}},
                       "required":["tier"]},
             "relations":{"service":{"title":"Service","target":"service","required":false,"many":false}},
             "mirrorProperties":{"service_region":{"path":"service.region"}},
             "calculationProperties":{"shout":{"title":"Shout","calculation":".title | ascii_upcase","type":"string"}}}
            """#
        )
        try await post(
            "/v1/blueprints/service/entities",
            #"{"identifier":"payments","title":"Payments","properties":{"region":"eu-west-1","replicas":3}}"#
        )
        let probes = segment(probe)
        try await post(
            "/v1/blueprints/\(probes)/entities",
            #"{"identifier":"p/1","title":"First","properties":{"tier":"gold"},"relations":{"service":"payments"}}"#
        )
        try await post(
            "/v1/blueprints/\(probes)/entities",
            #"{"identifier":"p-2","title":"Second","properties":{"tier":"silver","replicas":2},"relations":{}}"#
        )
        try await post(
            "/v1/actions",
            #"""
            {"identifier":"scale_probe","title":"Scale a probe",
             "trigger":{"type":"self-service","operation":"DAY-2","blueprintIdentifier":"\#(probe)",
                        "userInputs":{"properties":{"replicas":{"type":"number","default":1}},"required":[]}},
             "invocationMethod":{"type":"KAFKA","payload":{"replicas":"{{ .inputs.replicas }}",
                                                          "token":"{{ .secrets.SCALER_TOKEN }}"}}}
            """#
        )
        try await post("/v1/users/invite", #"{"invitee":{"email":"ada@example.com","firstName":"Ada"}}"#)
        try await post("/v1/users/invite", #"{"invitee":{"email":"bob@example.com","roles":["Admin"]}}"#)
        try await post("/v1/teams", #"{"name":"platform","users":["ada@example.com"],"description":"Platform"}"#)
        try await post(
            "/v1/blueprints/\(segment(probe))/scorecards",
            #"""
            {"identifier":"tiers","title":"Tiers","rules":[{"identifier":"gold","title":"Gold tier","level":"Gold",
             "query":{"combinator":"and","conditions":[{"property":"tier","operator":"=","value":"gold"}]}}]}
            """#
        )
        try await post(
            "/v1/actions",
            #"""
            {"identifier":"probe_gold","title":"A gold probe appeared",
             "trigger":{"type":"automation","event":{"type":"ENTITY_CREATED","blueprintIdentifier":"\#(probe)"},
                        "condition":{"type":"JQ","expressions":[".diff.after.properties.tier == \"gold\""],
                                     "combinator":"and"}},
             "invocationMethod":{"type":"KAFKA"}}
            """#
        )
    }

    @Test("import from emulator A, serve the result as B: the catalog answers the same; no secret is written")
    func roundTrip() async throws {
        let directory = NSTemporaryDirectory() + "import-command-" + UUID().uuidString
        let output = directory + "/imported"
        let secret = EmulatorConfiguration.defaultClientSecret
        let fixtures = try Fixtures.load(from: repositoryFixtures)
        let apiBase = try await withEmulator(fixtures) { emulatorA, clientA, tokenA in
            try await Self.populate(clientA, token: tokenA)
            let imported = try await portEmulator(
                [
                    "import", "--api-url", emulatorA.info.apiURL, "--client-id", "emulator-client-id", "--output",
                    output,
                    "--entities",
                ],
                environment: ["PORT_CLIENT_SECRET": secret]
            )
            #expect(imported.status == 0, "\(imported.errors)")
            let progress = imported.errors.split(separator: "\n").map(String.init)
            let blueprintCount = fixtures.blueprints.count + 1
            #expect(progress.contains("blueprints: \(blueprintCount)"), "\(progress)")
            #expect(progress.contains("entities of \(Self.probe): 2"), "\(progress)")
            #expect(progress.contains("entities of service: 1"), "\(progress)")
            for (kind, count) in [("teams", 1), ("users", 2), ("scorecards", 1)] {
                #expect(progress.contains("\(kind): \(count)"), "\(kind): \(progress)")
            }
            #expect(imported.output.hasPrefix("wrote \(output): \(blueprintCount) blueprints, "), "\(imported.output)")
            #expect(FileManager.default.fileExists(atPath: output + "/blueprints/team%3Aspace%2Fprobe.json"))
            #expect(FileManager.default.fileExists(atPath: output + "/entities/team%3Aspace%2Fprobe.json"))

            // Neither the client secret nor a token is in any file.
            for file in files(in: output) {
                let text = String(
                    decoding: FileManager.default.contents(atPath: output + "/" + file) ?? Data(),
                    as: UTF8.self
                )
                #expect(!text.contains(secret), "\(file) holds the client secret")
                #expect(!text.contains(tokenA), "\(file) holds an access token")
                #expect(text.hasSuffix("}\n") || text.hasSuffix("]\n"), "\(file) ends with a newline")
            }
            let probeFile = try readJSON(output + "/blueprints/team%3Aspace%2Fprobe.json")
            #expect(probeFile["createdAt"] == nil && probeFile["updatedBy"] == nil)
            let entities = try readJSON(output + "/entities/team%3Aspace%2Fprobe.json")
            #expect(
                entities.arrayValue?.first
                    == [
                        "identifier": "p-2", "title": "Second", "blueprint": .string(Self.probe), "team": [],
                        "properties": ["tier": "silver", "replicas": 2], "relations": [:],
                    ],
                "no stamps, no computed properties: \(entities.compactText)"
            )
            #expect(entities.arrayValue?.last?["properties"] == ["tier": "gold"])

            // B serves exactly what was written.
            let loaded = try Fixtures.load(from: output)
            try await withEmulator(loaded) { _, clientB, tokenB in
                for path in ["/v1/blueprints", "/v1/actions"] {
                    let key = String(path.dropFirst(4))
                    let a = try await clientA.call("GET", path, token: tokenA)
                    let b = try await clientB.call("GET", path, token: tokenB)
                    #expect(a.status == 200 && b.status == 200)
                    #expect(comparable(a.json[key]).count > 3)
                    #expect(comparable(a.json[key]) == comparable(b.json[key]), "\(path) differs")
                }

                // Entities (with their scorecard levels and computed properties), teams, users, scorecards.
                for blueprint in [Self.probe, "service"] {
                    let path = "/v1/blueprints/\(segment(blueprint))/entities"
                    let a = try await clientA.call("GET", path, token: tokenA)
                    let b = try await clientB.call("GET", path, token: tokenB)
                    #expect(comparable(a.json["entities"]).count == (blueprint == "service" ? 1 : 2))
                    #expect(comparable(a.json["entities"]) == comparable(b.json["entities"]), "\(path) differs")
                }
                for kind in ["teams", "users", "scorecards"] {
                    let a = try await clientA.call("GET", "/v1/\(kind)", token: tokenA)
                    let b = try await clientB.call("GET", "/v1/\(kind)", token: tokenB)
                    #expect(a.status == 200 && comparable(a.json[kind]).count > 0, "\(kind): \(a.json.compactText)")
                    #expect(comparable(a.json[kind]) == comparable(b.json[kind]), "/v1/\(kind) differs")
                }
            }

            // A second import into the same directory needs --force, which keeps other files.
            try Data("notes\n".utf8).write(to: URL(fileURLWithPath: output + "/README.md"))
            try Data("{}\n".utf8).write(to: URL(fileURLWithPath: output + "/blueprints/stale.json"))
            let arguments = [
                "import", "--api-url", emulatorA.info.apiBaseURL, "--client-id", "emulator-client-id",
                "--client-secret", secret, "--output", output,
            ]
            let refused = try await portEmulator(arguments)
            #expect(refused.status == 1)
            #expect(
                refused.errors.hasPrefix("port-emulator import: --output \(output) is not empty; pass --force"),
                "\(refused.errors)"
            )
            let forced = try await portEmulator(arguments + ["--force"])
            #expect(forced.status == 0, "\(forced.errors)")
            #expect(!FileManager.default.fileExists(atPath: output + "/blueprints/stale.json"))
            #expect(FileManager.default.contents(atPath: output + "/README.md") == Data("notes\n".utf8))
            #expect(FileManager.default.fileExists(atPath: output + "/entities"), "entities/ stays without --entities")
            return emulatorA.info.apiBaseURL
        }

        // Unreachable: one line, exit 1.
        let unreachable = try await portEmulator(
            ["import", "--api-url", apiBase, "--client-id", "x", "--client-secret", "y", "--output", directory + "/u"]
        )
        #expect(unreachable.status == 1)
        #expect(unreachable.errors.hasPrefix("port-emulator import: cannot reach \(apiBase) "), "\(unreachable.errors)")
        #expect(unreachable.errors.split(separator: "\n").count == 1)
        try? FileManager.default.removeItem(atPath: directory)
    }

    @Test("a wrong client secret is exit 1 with one line naming the API and the status; nothing is written")
    func wrongSecret() async throws {
        let directory = NSTemporaryDirectory() + "import-command-" + UUID().uuidString
        try await withEmulator(Fixtures()) { emulator, _, _ in
            let result = try await portEmulator(
                [
                    "import", "--api-url", emulator.info.apiBaseURL + "/", "--client-id", "emulator-client-id",
                    "--output", directory,
                ],
                environment: ["PORT_CLIENT_SECRET": "not-the-secret-at-all"]
            )
            #expect(result.status == 1)
            let lines = result.errors.split(separator: "\n")
            #expect(lines.count == 1, "\(result.errors)")
            #expect(
                result.errors.hasPrefix(
                    "port-emulator import: \(emulator.info.apiBaseURL) refused the client id and secret: "
                        + "POST /v1/auth/access_token answered 401"
                ),
                "\(result.errors)"
            )
            #expect(!result.errors.contains("not-the-secret-at-all"))
            #expect(result.output.isEmpty)
            #expect(!FileManager.default.fileExists(atPath: directory))
        }
    }
}
