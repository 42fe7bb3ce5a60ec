import Consumer
import Emulator
import Foundation
import PortContract
import PortKafka
import Synchronization
import TestSupport
import Testing

@Suite("Secret inputs in the consumer", .serialized, .heavy, .timeLimit(.minutes(10)))
struct ConsumerSecretTests {
    @Test("a handler gets the plaintext of string and object secrets, and is told which inputs were secret")
    func decrypted() async throws {
        try await ConsumerHarness.run { harness in
            let client = harness.client()
            let seen = Mutex<(JSONObject, [String])?>(nil)
            let runtime = RunRuntime(
                client: client,
                handlers: [
                    "deploy_with_secrets": { context in seen.withLock { $0 = (context.inputs, context.secretInputs) } }
                ],
                logger: quietLogger
            )
            let running = Running(try harness.consumer(runtime: runtime, group: "org_consumer.secrets"))
            let runID = try await harness.trigger(
                "deploy_with_secrets",
                ["service": "api", "apiToken": "tok-secret-value", "credentials": ["user": "ci", "password": "pw"]]
            )
            #expect(try await harness.finished(runID).status == .success)
            let (inputs, secret) = try #require(seen.withLock { $0 })
            #expect(
                inputs == [
                    "service": "api", "apiToken": "tok-secret-value", "credentials": ["user": "ci", "password": "pw"],
                ]
            )
            #expect(secret == ["apiToken", "credentials"])
            // Port's copy stays encrypted.
            #expect(try harness.emulator.runs.run(runID).request.properties["apiToken"] != "tok-secret-value")
            await running.stop()
            await client.shutdown()
        }
    }

    @Test("a secret that does not decrypt ends its run as FAILURE with a clear log, and the consumer goes on")
    func undecryptable() async throws {
        try await ConsumerHarness.run { harness in
            let client = harness.client()
            let runtime = RunRuntime(client: client, handlers: ["deploy_with_secrets": { _ in }], logger: quietLogger)
            let consumer = try harness.consumer(runtime: runtime, group: "org_consumer.bad-secrets")
            let running = Running(consumer)
            let action = try harness.emulator.catalog.action("deploy_with_secrets")
            // Encrypted with another key, as a message meant for another organization would be.
            let foreign = try SecretInput.encrypt(Array("tok".utf8), clientSecret: String(repeating: "x", count: 40))
            for value in [foreign, "not base64!", "c2hvcnQ="] {
                let run = harness.emulator.runs.create(
                    NewRun(action: RunActionInfo(identifier: "deploy_with_secrets"), properties: ["service": "api"])
                )
                let message: JSONValue = [
                    "action": "deploy_with_secrets", "resourceType": "run", "status": "TRIGGERED",
                    "context": ["entity": .null, "blueprint": .null, "runId": .string(run.id)],
                    "payload": [
                        "entity": .null, "action": .object(action.definition),
                        "properties": ["service": "api", "apiToken": .string(value)], "censoredProperties": [],
                    ],
                ]
                _ = try await harness.emulator.publisher.publishRaw(message, runID: run.id)
                #expect(try await harness.finished(run.id).status == .failure)
                let last = try #require(try harness.emulator.runs.logs(run.id).last?.message)
                #expect(last.hasPrefix("the secret input apiToken cannot be decrypted: "), "\(last)")
            }
            // It is still consuming: the next run succeeds.
            let good = try await harness.trigger("deploy_with_secrets", ["service": "api", "apiToken": "fine"])
            #expect(try await harness.finished(good).status == .success)
            await running.stop()
            await client.shutdown()
        }
    }

    @Test("a command handler gets secrets on stdin only, never as PORT_INPUT_ variables")
    func commandHandler() async throws {
        try await ConsumerHarness.run { harness in
            let client = harness.client()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("secret-\(UUID().uuidString)")
                .path
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let script = directory + "/show.sh"
            try """
            #!/usr/bin/env bash
            env | grep '^PORT_INPUT_' | sort > \(directory)/env.txt
            cat > \(directory)/stdin.json
            """.write(toFile: script, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
            let runtime = RunRuntime(
                client: client,
                handlers: ["deploy_with_secrets": CommandHandler(command: [script]).handler],
                logger: quietLogger
            )
            let running = Running(try harness.consumer(runtime: runtime, group: "org_consumer.secret-command"))
            let runID = try await harness.trigger(
                "deploy_with_secrets",
                ["service": "api", "apiToken": "tok-on-stdin"]
            )
            #expect(try await harness.finished(runID).status == .success)
            let variables = try String(contentsOfFile: directory + "/env.txt", encoding: .utf8)
            #expect(variables == "PORT_INPUT_SERVICE=api\n")
            let stdin = try JSONValue.parse(
                Array(try Data(contentsOf: URL(fileURLWithPath: directory + "/stdin.json")))
            )
            #expect(stdin == ["service": "api", "apiToken": "tok-on-stdin"])
            await running.stop()
            await client.shutdown()
        }
    }
}
