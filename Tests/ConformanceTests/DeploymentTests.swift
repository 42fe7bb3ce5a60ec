import ChildProcesses
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// The compose file and the SASL_SSL/SCRAM-SHA-512 path, as far as a machine without a Docker
/// engine or a real Kafka allows: the compose file is valid, and both executables reach a TLS
/// listener that presents the certificate the compose file's one-shot job makes, verifying it
/// against that CA (and refusing it against another) before their Kafka handshake.
@Suite("docker-compose.yml and the SASL_SSL path", .heavy, .timeLimit(.minutes(10)))
struct DeploymentTests {
    @Test("docker-compose config accepts the compose file, with the services wired as documented")
    func composeFileIsValid() async throws {
        let (status, output) = try await runExecutable(
            "/usr/bin/env",
            ["docker-compose", "-f", Repository.root.appendingPathComponent("docker-compose.yml").path, "config"]
        )
        #expect(status == 0, "\(output)")
        for expected in [
            "apache/kafka:", "--kafka-security-protocol=SASL_SSL", "--kafka-sasl-mechanism=SCRAM-SHA-512",
            "KAFKA_SECURITY_PROTOCOL: SASL_SSL", "KAFKA_CONSUMER_GROUP_ID: org_emulator.port-consumer",
            "condition: service_completed_successfully", "published: 5100",
        ] {
            #expect(output.contains(expected), "missing \(expected)")
        }
        let dockerfile = try String(contentsOf: Repository.root.appendingPathComponent("Dockerfile"), encoding: .utf8)
        #expect(dockerfile.contains("FROM debian:bookworm-slim"))
        #expect(dockerfile.contains("USER port"))
    }

    @Test(
        "port-emulator and port-consumer complete TLS with the compose CA, and refuse a broker it did not sign",
        arguments: ["port-emulator", "port-consumer"]
    )
    func saslSSLHandshake(executable: String) async throws {
        let directory = try Repository.temporaryDirectory()
        let certs = directory + "/certs"
        try FileManager.default.createDirectory(atPath: certs, withIntermediateDirectories: true)
        var environment = ProcessInfo.processInfo.environment
        environment["CERT_DIR"] = certs
        let made = try ChildProcess.spawn(
            ["sh", Repository.root.appendingPathComponent("deploy/kafka/make-certs.sh").path],
            environment: environment,
            outputPath: directory + "/certs.log"
        )
        #expect(await made.wait().status == 0)
        // A TLS listener that is not Kafka: it hangs up once the client's first request arrives,
        // so a client that trusted its certificate is always waiting for ApiVersions then.
        let peerLog = directory + "/peer.log"
        let server = try ChildProcess.spawn(
            [
                "python3",
                Repository.root.appendingPathComponent("Tests/ConformanceTests/Peers/tls_hangup_broker.py").path,
                certs + "/broker.crt", certs + "/broker.key",
            ],
            environment: environment,
            outputPath: peerLog
        )
        defer { server.signal(SIGKILL) }
        @Sendable func peerOutput() -> String { (try? String(contentsOfFile: peerLog, encoding: .utf8)) ?? "" }
        try await waitUntil("the TLS listener to print its port", within: .seconds(30)) {
            server.termination != nil || peerOutput().contains("listening ")
        }
        let port = try #require(
            peerOutput().split(separator: "\n").first { $0.hasPrefix("listening ") }.flatMap { Int($0.dropFirst(10)) },
            "the TLS listener did not start:\n\(peerOutput())"
        )

        for (ca, expected) in [
            (certs + "/ca.pem", "Disconnected while requesting ApiVersion"),
            ("/etc/ssl/certs/ca-certificates.crt", "certificate verify failed"),
        ] {
            let log = directory + "/\(executable)-\(expected.count).log"
            var arguments: [String]
            var childEnvironment = environment
            if executable == "port-emulator" {
                arguments = [
                    Repository.binaries + "/port-emulator", "serve", "--port", "0", "--log-level", "info",
                    "--kafka-bootstrap", "localhost:\(port)", "--kafka-security-protocol", "sasl_ssl",
                    "--kafka-sasl-mechanism", "SCRAM-SHA-512", "--kafka-username", "port-emulator",
                    "--kafka-password", "emulator-secret", "--kafka-ca-location", ca,
                ]
            } else {
                arguments = [Repository.binaries + "/port-consumer", "--log-level", "info"]
                childEnvironment.merge(
                    [
                        "PORT_CLIENT_ID": "id", "PORT_CLIENT_SECRET": "secret", "PORT_ORG_ID": "org_emulator",
                        "KAFKA_BROKERS": "localhost:\(port)", "KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                        "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_USERNAME": "org_emulator",
                        "KAFKA_PASSWORD": "customer-secret", "KAFKA_SSL_CA_LOCATION": ca,
                        "KAFKA_CONSUMER_GROUP_ID": "org_emulator.port-consumer",
                    ]
                ) { $1 }
            }
            let child = try ChildProcess.spawn(arguments, environment: childEnvironment, outputPath: log)
            defer { child.signal(SIGKILL) }
            // TLS first, then Kafka's own handshake: with the compose CA the certificate is
            // accepted and the (non-Kafka) listener hangs up at ApiVersion; with another CA
            // the handshake itself fails.
            try await waitUntil("\(executable) to log \"\(expected)\"", within: .seconds(20)) {
                ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains(expected)
            }
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            #expect(text.contains("sasl_ssl://localhost:\(port)"), "librdkafka did not use SASL_SSL:\n\(text)")
            if expected.hasPrefix("Disconnected") {
                #expect(!text.contains("certificate verify failed"))
                #expect(peerOutput().contains("request api_key=18"), "no ApiVersions request over TLS")
            }
        }
    }
}
