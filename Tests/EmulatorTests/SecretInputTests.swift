import ChildProcesses
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// Secret inputs (contract §8), checked with port-agent's own algorithm in Python
/// (pycryptodome), never with the project's decryption.
@Suite("Secret inputs", .heavy, .timeLimit(.minutes(10)))
struct SecretInputTests {
    static let token = "tok-0123456789abcdef"
    static let credentials: JSONValue = ["user": "deployer", "password": "hunter2-but-longer"]
    static let inputs =
        #"{"service":"checkout","apiToken":"tok-0123456789abcdef","credentials":{"user":"deployer","password":"hunter2-but-longer"}}"#

    /// Decrypts `values` (name to base64) with port-agent's decrypt_field, keyed with `key`.
    static func decryptLikePortAgent(_ values: JSONObject, key: String) async throws -> (ok: Bool, output: String) {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Secrets/decrypt_like_port_agent.py").path
        let result = try await ChildProcess.run(
            ["python3", script, key],
            environment: ProcessInfo.processInfo.environment,
            input: JSONValue.object(values).compactBytes
        )
        return (!result.termination.bySignal && result.termination.status == 0, result.output + result.errors)
    }

    @Test("a string and an object secret are encrypted as port-agent decrypts them; the wrong key fails")
    func legacyMessage() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            let created = try await harness.call(
                "POST",
                "/v1/actions/deploy_with_secrets/runs",
                token: token,
                body: #"{"properties":\#(Self.inputs)}"#
            )
            #expect(created.status == 202, "\(created.json)")
            let runID = try #require(created.json["run"]?["id"]?.stringValue)
            let message = try await reader.json(key: runID)
            let properties = try #require(message["payload"]?["properties"]?.objectValue)
            #expect(properties["service"] == "checkout", "other inputs stay plain")
            let encrypted = try #require(properties["apiToken"]?.stringValue)
            #expect(encrypted != Self.token)
            #expect(Data(base64Encoded: encrypted)?.count == 16 + Self.token.utf8.count + 16, "IV, ciphertext, tag")
            let secrets: JSONObject = [
                "apiToken": properties["apiToken"] ?? .null, "credentials": properties["credentials"] ?? .null,
            ]

            let decrypted = try await Self.decryptLikePortAgent(secrets, key: harness.emulator.info.clientSecret)
            #expect(decrypted.ok, "\(decrypted.output)")
            let plain = try JSONValue.parse(Array(decrypted.output.utf8))
            #expect(plain["apiToken"] == .string(Self.token))
            #expect(
                try JSONValue.parse(Array((plain["credentials"]?.stringValue ?? "").utf8)) == Self.credentials,
                "an object is encrypted as its JSON text"
            )
            let wrong = try await Self.decryptLikePortAgent(secrets, key: "another-client-secret-of-more-than-32-bytes")
            #expect(!wrong.ok)
            #expect(wrong.output.contains("MAC check failed"), "\(wrong.output)")
            // The definition in the message marks them, as Port's does.
            let definitionInputs = message["payload"]?["action"]?["trigger"]?["userInputs"]?["properties"]
            #expect(definitionInputs?["apiToken"]?["encryption"] == "aes256-gcm")
            // Two runs, two IVs: the same token never encrypts the same way twice.
            let again = try await harness.call(
                "POST",
                "/v1/actions/deploy_with_secrets/runs",
                token: token,
                body: #"{"properties":\#(Self.inputs)}"#
            )
            let againID = try #require(again.json["run"]?["id"]?.stringValue)
            let second = try await reader.json(key: againID)
            #expect(second["payload"]?["properties"]?["apiToken"] != properties["apiToken"])
            await reader.close()
        }
    }

    @Test("in a template, .inputs.NAME is the ciphertext and .action.encryptedProperties names the secrets")
    func templatedMessage() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            let definition = #"""
                {"identifier":"rotate_key","trigger":{"type":"self-service","operation":"CREATE","userInputs":{"properties":{
                   "key":{"type":"string","format":"multi-line","encryption":"aes256-gcm"},"name":{"type":"string"}}}},
                 "invocationMethod":{"type":"KAFKA","payload":{"runId":"{{ .run.id }}","key":"{{ .inputs.key }}",
                   "name":"{{ .inputs.name }}","encrypted":"{{ .action.encryptedProperties }}"}}}
                """#
            #expect(try await harness.call("POST", "/v1/actions", token: token, body: definition).status == 201)
            let created = try await harness.call(
                "POST",
                "/v1/actions/rotate_key/runs",
                token: token,
                body: #"{"properties":{"key":"-----BEGIN KEY-----\nline two\n","name":"signing"}}"#
            )
            let runID = try #require(created.json["run"]?["id"]?.stringValue)
            let message = try await reader.json(key: runID)
            #expect(message["encrypted"] == ["key"])
            #expect(message["name"] == "signing")
            let decrypted = try await Self.decryptLikePortAgent(
                ["key": message["key"] ?? .null],
                key: harness.emulator.info.clientSecret
            )
            #expect(decrypted.ok, "\(decrypted.output)")
            #expect(try JSONValue.parse(Array(decrypted.output.utf8))["key"] == "-----BEGIN KEY-----\nline two\n")
            await reader.close()
        }
    }

    @Test("no plaintext in the run, the journal, the violations, the admin API or the dashboard page")
    func noPlaintext() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            let created = try await harness.call(
                "POST",
                "/v1/actions/deploy_with_secrets/runs",
                token: token,
                body: #"{"properties":\#(Self.inputs)}"#
            )
            let runID = try #require(created.json["run"]?["id"]?.stringValue)
            #expect(
                created.json["run"]?["properties"]?["apiToken"] != .string(Self.token),
                "the run shows the ciphertext"
            )
            // A refused secret (an enum) is not repeated in the error.
            let pinAction = #"""
                {"identifier":"unlock","trigger":{"type":"self-service","operation":"CREATE","userInputs":{"properties":{
                   "pin":{"type":"string","enum":["1234"],"encryption":"aes256-gcm"}}}},"invocationMethod":{"type":"KAFKA"}}
                """#
            #expect(try await harness.call("POST", "/v1/actions", token: token, body: pinAction).status == 201)
            let refused = try await harness.call(
                "POST",
                "/v1/actions/unlock/runs",
                token: token,
                body: #"{"properties":{"pin":"9876"}}"#
            )
            #expect(refused.status == 422)
            #expect(refused.json["message"]?.stringValue?.contains("9876") == false, "\(refused.json)")
            try await waitUntil("the invocation to be published") {
                (try? harness.emulator.runs.run(runID).delivery) != nil
            }
            let places = [
                ("GET", "/v1/actions/runs/\(runID)?version=v2", true), ("GET", "/v1/actions/runs/\(runID)", true),
                ("GET", "/v1/actions/runs", true), ("GET", "/_emulator/runs", false),
                ("GET", "/_emulator/runs/\(runID)", false),
                ("GET", "/_emulator/journal", false), ("GET", "/_emulator/violations", false), ("GET", "/", false),
            ]
            for (method, path, authorized) in places {
                let response = try await RawHTTPClient.send(
                    port: harness.port,
                    method: method,
                    path: path,
                    headers: authorized ? [("Authorization", "Bearer \(token)")] : []
                )
                #expect(response.status == 200, "\(path)")
                for secret in [Self.token, "hunter2-but-longer", "9876"] {
                    #expect(!response.bodyString.contains(secret), "\(secret) appears in \(path)")
                }
            }
        }
    }

    @Test(
        "a client secret shorter than 32 bytes is refused at start once an action has a secret input, and by POST /v1/actions"
    )
    func shortClientSecret() async throws {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.clientSecret = "emulator-client-secret"
        configuration.fixtures = try Fixtures.load(from: EmulatorHarness.fixturesDirectory)
        do {
            // Scoped: should it start after all, it stops again.
            try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { _ in }
            Issue.record("an emulator with a 22-byte secret and secret inputs started")
        } catch {
            let message = "\(error)"
            #expect(message.contains("22 bytes"), "\(message)")
            #expect(message.contains("deploy_with_secrets"), "\(message)")
            #expect(message.contains("--client-secret of at least 32 bytes"), "\(message)")
        }
        let configure: (inout EmulatorConfiguration) -> Void = { configuration in
            configuration.clientSecret = "short-secret"
            configuration.fixtures = Fixtures()
        }
        try await EmulatorHarness.run(configure: configure) { harness in
            let grant = try await harness.call(
                "POST",
                "/v1/auth/access_token",
                body: #"{"clientId":"emulator-client-id","clientSecret":"short-secret"}"#
            )
            let token = try #require(grant.json["accessToken"]?.stringValue)
            let definition = #"""
                {"identifier":"needs_key","trigger":{"type":"self-service","operation":"CREATE","userInputs":{"properties":{
                   "token":{"type":"string","encryption":"aes256-gcm"}}}},"invocationMethod":{"type":"KAFKA"}}
                """#
            let answer = try await harness.call("POST", "/v1/actions", token: token, body: definition)
            #expect(answer.status == 422)
            #expect(answer.json["message"]?.stringValue?.contains("userInputs.properties.token.encryption") == true)
            #expect(
                try await harness.call("GET", "/v1/actions/needs_key", token: token).status == 404,
                "nothing stored"
            )
        }
    }

    @Test("organization secrets: created, changed and deleted by name, read by templates, their values never answered")
    func organizationSecrets() async throws {
        try await EmulatorHarness.run { harness in
            let reader = try harness.runsReader()
            let token = try await harness.token()
            let created = try await harness.call(
                "POST",
                "/v1/organization/secrets",
                token: token,
                body: #"{"secretName":"DEPLOY_KEY","secretValue":"org-secret-value-1","description":"deploys"}"#
            )
            #expect(created.status == 201, "\(created.json)")
            #expect(created.json["secret"]?["secretName"] == "DEPLOY_KEY")
            #expect(created.json["secret"]?["secretValue"] == nil)
            for (body, field) in [
                (#"{"secretName":"bad name!","secretValue":"x"}"#, "secretName"),
                (#"{"secretName":"\#(String(repeating: "a", count: 101))","secretValue":"x"}"#, "secretName"),
                (#"{"secretName":"NO_VALUE"}"#, "secretValue"),
                (#"{"secretName":"X","secretValue":"x","owner":"me"}"#, "owner"),
            ] {
                let refused = try await harness.call("POST", "/v1/organization/secrets", token: token, body: body)
                #expect(refused.status == 422, "\(body)")
                #expect(refused.json["message"]?.stringValue?.contains(field) == true, "\(body): \(refused.json)")
            }
            let again = try await harness.call(
                "POST",
                "/v1/organization/secrets",
                token: token,
                body: #"{"secretName":"DEPLOY_KEY","secretValue":"other"}"#
            )
            #expect(again.status == 409)
            let definition = #"""
                {"identifier":"use_secret","trigger":{"type":"self-service","operation":"CREATE","userInputs":{"properties":{}}},
                 "invocationMethod":{"type":"KAFKA","payload":{"runId":"{{ .run.id }}","key":"{{ .secrets.DEPLOY_KEY }}"}}}
                """#
            #expect(try await harness.call("POST", "/v1/actions", token: token, body: definition).status == 201)
            func keyOfNextRun() async throws -> JSONValue? {
                let run = try await harness.call(
                    "POST",
                    "/v1/actions/use_secret/runs",
                    token: token,
                    body: #"{"properties":{}}"#
                )
                return try await reader.json(key: try #require(run.json["run"]?["id"]?.stringValue))["key"]
            }
            #expect(try await keyOfNextRun() == "org-secret-value-1")
            let patched = try await harness.call(
                "PATCH",
                "/v1/organization/secrets/DEPLOY_KEY",
                token: token,
                body: #"{"secretValue":"org-secret-value-2"}"#
            )
            #expect(patched.status == 200)
            #expect(try await keyOfNextRun() == "org-secret-value-2")
            for path in ["/v1/organization/secrets", "/v1/organization/secrets/DEPLOY_KEY"] {
                let shown = try await RawHTTPClient.send(
                    port: harness.port,
                    method: "GET",
                    path: path,
                    headers: [("Authorization", "Bearer \(token)")]
                )
                #expect(shown.status == 200)
                #expect(shown.bodyString.contains("DEPLOY_KEY"))
                #expect(!shown.bodyString.contains("org-secret-value"), "\(path) shows a value")
            }
            #expect(try await harness.call("DELETE", "/v1/organization/secrets/DEPLOY_KEY", token: token).status == 200)
            #expect(try await harness.call("GET", "/v1/organization/secrets/DEPLOY_KEY", token: token).status == 404)
            #expect(try await harness.call("DELETE", "/v1/organization/secrets/DEPLOY_KEY", token: token).status == 404)
            #expect(try await keyOfNextRun() == .null)
            await reader.close()
        }
    }

    // One emulator for both cases: a parameterized test would start one per case at once.
    @Test("an encryption Port does not offer, or on a type it cannot encrypt, is 422 naming the input")
    func badEncryption() async throws {
        try await EmulatorHarness.run { harness in
            let token = try await harness.token()
            for (schema, detail) in [
                (#"{"type":"string","encryption":"aes128"}"#, "aes128"),
                (#"{"type":"number","encryption":"aes256-gcm"}"#, "number"),
            ] {
                let definition = #"""
                    {"identifier":"bad_secret","trigger":{"type":"self-service","operation":"CREATE","userInputs":{"properties":{
                       "value":\#(schema)}}},"invocationMethod":{"type":"KAFKA"}}
                    """#
                let answer = try await harness.call("POST", "/v1/actions", token: token, body: definition)
                #expect(answer.status == 422)
                let message = answer.json["message"]?.stringValue ?? ""
                #expect(
                    message.contains("userInputs.properties.value.encryption") && message.contains(detail),
                    "\(message)"
                )
                #expect(try await harness.call("GET", "/v1/actions/bad_secret", token: token).status == 404)
            }
        }
    }
}
