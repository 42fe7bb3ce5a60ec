import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

@Suite("The consumer's settings: env file and kafka-credentials", .heavy, .timeLimit(.minutes(10)))
struct EnvFileTests {
    @Test("the env file holds every setting a consumer sources, written atomically and quoted for shells")
    func envFile() async throws {
        try await EmulatorHarness.run { harness in
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
                "envfile-\(UUID().uuidString)"
            )
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("emulator.env").path

            try EnvFile.write(harness.emulator.info, to: path)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let values = Dictionary(
                uniqueKeysWithValues: text.split(separator: "\n").map { line in
                    let parts = line.split(separator: "=", maxSplits: 1)
                    return (String(parts[0]), String(parts[1]))
                }
            )
            #expect(values["PORT_API_URL"] == "http://127.0.0.1:\(harness.port)/v1")
            #expect(values["PORT_API_BASE_URL"] == "http://127.0.0.1:\(harness.port)")
            #expect(values["PORT_ORG_ID"] == "org_api")
            #expect(values["PORT_CLIENT_ID"] == "emulator-client-id")
            #expect(values["PORT_CLIENT_SECRET"] == "emulator-client-secret-7Qm2xV9pL4kR8nW3zT6yB1")
            #expect(values["KAFKA_BROKERS"] == harness.emulator.info.kafkaBootstrapServers)
            #expect(values["KAFKA_CONSUMER_GROUP_ID"] == "org_api.consumer")
            let info = harness.emulator.info
            #expect(values["KAFKA_SECURITY_PROTOCOL"] == "PLAINTEXT")
            #expect(values["KAFKA_SASL_SSL_BROKERS"] == info.kafkaSASLSSLBootstrapServers)
            #expect(values["KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512")
            #expect(values["KAFKA_USERNAME"] == "org_api")
            #expect(values["KAFKA_PASSWORD"] == "emulator-kafka-password")
            let ca = try #require(values["KAFKA_SSL_CA_LOCATION"])
            #expect(try String(contentsOfFile: ca, encoding: .utf8).hasPrefix("-----BEGIN CERTIFICATE-----"))
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["emulator.env"])

            try EnvFile.removeStale(at: path)
            #expect(!FileManager.default.fileExists(atPath: path))
            let unwritable = #expect(throws: EmulatorError.self) {
                try EnvFile.write(harness.emulator.info, to: "/nonexistent-dir/emulator.env")
            }
            #expect(unwritable?.message.contains("cannot write the env file /nonexistent-dir/emulator.env") == true)
        }
    }

    @Test("kafka-credentials returns the SASL_SSL brokers and the SCRAM user, as Port does, behind the token")
    func kafkaCredentials() async throws {
        let ca = try await EmulatorHarness.run { harness in
            #expect(try await harness.call("GET", "/v1/kafka-credentials").status == 401)
            let response = try await harness.call("GET", "/v1/kafka-credentials", token: try await harness.token())
            #expect(response.status == 200)
            let sasl = try #require(harness.emulator.info.kafkaSASLSSLBootstrapServers)
            #expect(sasl != harness.emulator.info.kafkaBootstrapServers)
            let brokers = sasl.split(separator: ",").map { JSONValue.string(String($0)) }
            #expect(response.json["credentials"]?["brokers"] == .array(brokers))
            #expect(response.json["credentials"]?["username"] == "org_api")
            #expect(response.json["credentials"]?["password"] == "emulator-kafka-password")
            let ca = try #require(harness.emulator.info.kafkaCALocation)
            #expect(FileManager.default.fileExists(atPath: ca))
            return ca
        }
        #expect(!FileManager.default.fileExists(atPath: ca), "the generated CA is removed on stop")
    }
}

@Suite("--secrets-file", .heavy, .timeLimit(.minutes(10)))
struct SecretsFileTests {
    func write(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("secrets-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("a JSON object of strings and a dotenv file read the same")
    func formats() throws {
        let json = try write(#"{"DEPLOY_TOKEN":"abc","DB":"p=w"}"#)
        let dotenv = try write("# deploy\nDEPLOY_TOKEN=abc\n\nDB=\"p=w\"\n")
        #expect(try SecretsFile.read(json) == ["DEPLOY_TOKEN": "abc", "DB": "p=w"])
        #expect(try SecretsFile.read(dotenv) == ["DEPLOY_TOKEN": "abc", "DB": "p=w"])
    }

    @Test("a bad line, a non-string value or a missing file is an error that says where")
    func errors() throws {
        let badLine = try write("A=1\njust words\n")
        #expect(throws: EmulatorError.self) { try SecretsFile.read(badLine) }
        #expect((try? SecretsFile.read(badLine)) == nil)
        do {
            _ = try SecretsFile.read(badLine)
        } catch {
            #expect(error.message.hasSuffix(":2: expected NAME=VALUE"))
        }
        let number = try write(#"{"A":1}"#)
        #expect(throws: EmulatorError.self) { try SecretsFile.read(number) }
        #expect(throws: EmulatorError.self) { try SecretsFile.read("/no/such/secrets") }
    }
}
