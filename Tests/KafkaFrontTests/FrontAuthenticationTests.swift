import Emulator
import Foundation
import KafkaBroker
import KafkaFront
import KafkaProtocol
import PortContract
import PortKafka
import TestSupport
import Testing

@Suite("SASL_SSL on the front: SCRAM users, passwords, mechanisms and the CA", .heavy, .timeLimit(.minutes(10)))
struct FrontAuthenticationTests {
    static let confluentAuthFailure =
        "Authentication failed during authentication due to invalid credentials with SASL mechanism"

    @Test("a wrong password and an unknown user are refused with Kafka's SASL authentication error")
    func wrongCredentials() async throws {
        try await FrontHarness.run { harness in
            var arguments = ["--client", "confluent", "--action", "metadata", "--topic", "x", "--timeout", "30"]
            arguments += harness.connection(.saslSSL, password: "not-the-password")
            let wrongPassword = try await Clients.python(arguments)
            #expect(wrongPassword.status == 2)
            // librdkafka logs the broker's refusal, then gives up on the metadata.
            #expect(
                wrongPassword.said("SASL authentication error: \(Self.confluentAuthFailure) SCRAM-SHA-512"),
                "\(wrongPassword)"
            )

            var unknown = harness.kcatSettings(.saslSSL)
            unknown[unknown.firstIndex(of: "sasl.username=\(harness.info.kafkaUsername!)")!] = "sasl.username=nobody"
            let kcat = try await Clients.kcat(["-L", "-m", "10"] + unknown)
            #expect(kcat.status != 0)
            #expect(
                kcat.errors.contains("SASL authentication error: \(Self.confluentAuthFailure) SCRAM-SHA-512"),
                "\(kcat)"
            )

            let kafkaPython = try await Clients.python(
                ["--client", "kafka-python", "--action", "metadata", "--topic", "x"]
                    + harness.connection(.saslSSL, password: "not-the-password")
            )
            #expect(kafkaPython.status == 2, "\(kafkaPython)")
            #expect(kafkaPython.messages.isEmpty)
        }
    }

    @Test("a client that trusts another CA fails its TLS handshake")
    func wrongCA() async throws {
        try await FrontHarness.run { harness in
            let other = NSTemporaryDirectory() + "other-ca-\(UUID().uuidString).pem"
            try FrontTLSIdentity.generate().caPEM.write(toFile: other, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(atPath: other) }
            let run = try await Clients.python(
                ["--client", "confluent", "--action", "metadata", "--topic", "x", "--timeout", "30"]
                    + harness.connection(.saslSSL, ca: other)
            )
            #expect(run.status == 2)
            #expect(run.said("certificate verify failed"), "\(run)")
            let aiokafka = try await Clients.python(
                ["--client", "aiokafka", "--action", "metadata", "--topic", "x", "--timeout", "30"]
                    + harness.connection(.saslSSL, ca: other)
            )
            #expect(aiokafka.status == 2, "\(aiokafka)")
            #expect(
                aiokafka.errors.contains("CERTIFICATE_VERIFY_FAILED")
                    || aiokafka.events.contains { $0.message.contains("CERTIFICATE_VERIFY_FAILED") },
                "\(aiokafka)"
            )
        }
    }

    @Test("SCRAM-SHA-512 against a user with only a SCRAM-SHA-256 credential is refused; SHA-256 logs in")
    func mechanismPerUser() async throws {
        let broker = KafkaBroker()
        broker.createTopic("org_front.runs", partitions: 1)
        let identity = try FrontTLSIdentity.generate()
        let ca = NSTemporaryDirectory() + "front-ca-\(UUID().uuidString).pem"
        try identity.caPEM.write(toFile: ca, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: ca) }
        var configuration = KafkaFrontConfiguration(
            broker: broker,
            plaintextPrincipal: "sha256-user",
            acl: KafkaACL(orgID: "org_front", readableTopics: ["org_front.runs"])
        )
        configuration.tls = identity
        configuration.users = ["sha256-user": [.sha256: ScramCredential(mechanism: .sha256, password: "secret")]]
        try await KafkaFront.withRunning(configuration: configuration, logger: quietLogger) { front in
            let brokers = front.bootstrapServers(.saslSSL).joined(separator: ",")
            func attempt(_ mechanism: String) async throws -> ClientRun {
                try await Clients.python(
                    [
                        "--client", "confluent", "--action", "metadata", "--topic", "x", "--timeout", "30",
                        "--bootstrap",
                        brokers,
                        "--security", "SASL_SSL", "--mechanism", mechanism, "--username", "sha256-user", "--password",
                        "secret",
                        "--ca", ca,
                    ]
                )
            }
            let sha512 = try await attempt("SCRAM-SHA-512")
            #expect(sha512.status == 2)
            #expect(sha512.said("SASL authentication error: \(Self.confluentAuthFailure) SCRAM-SHA-512"), "\(sha512)")
            let sha256 = try await attempt("SCRAM-SHA-256")
            #expect(sha256.status == 0, "\(sha256)")
            let topics = sha256.events.first { $0.kind == "metadata" }?.fields["topics"]?.arrayValue?.compactMap(
                \.stringValue
            )
            #expect(topics == ["org_front.runs"])
        }
    }
}
