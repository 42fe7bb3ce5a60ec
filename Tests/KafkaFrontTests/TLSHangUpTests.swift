import ChildProcesses
import Foundation
import KafkaBroker
import KafkaFront
import Synchronization
import TestSupport
import Testing

/// A client hanging up mid-handshake is reported as an untrusted CA only from a host whose
/// clients have never completed one: librdkafka closes its other connections mid-handshake
/// as kcat exits, and that must not read as a trust problem.
@Suite(
    "TLS hang-ups: a sign of an untrusted CA only where no handshake has completed",
    .heavy,
    .timeLimit(.minutes(10))
)
struct TLSHangUpTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Clients/tls_hangup_client.py").path

    static func client(_ mode: String, port: Int, ca: String) async throws -> String {
        let (termination, output, errors) = try await ChildProcess.run(
            ["python3", script, "127.0.0.1", String(port), mode, ca],
            environment: ProcessInfo.processInfo.environment
        )
        #expect(termination.status == 0, "\(errors)")
        return output
    }

    @Test("a hang-up before any handshake is reported; after one completed from the host, it is not")
    func hangUpsAfterATrustedHandshakeAreNotReported() async throws {
        let reports = Mutex<[String]>([])
        let broker = KafkaBroker()
        var configuration = KafkaFrontConfiguration(
            broker: broker,
            plaintextPrincipal: "org_tls",
            acl: KafkaACL(orgID: "org_tls", readableTopics: [])
        )
        let identity = try FrontTLSIdentity.generate()
        configuration.tls = identity
        configuration.onUntrustedCertificate = { alert in reports.withLock { $0.append(alert) } }
        let ca = FileManager.default.temporaryDirectory.appendingPathComponent("front-ca-\(UUID().uuidString).pem").path
        try Data(identity.caPEM.utf8).write(to: URL(fileURLWithPath: ca))
        defer { try? FileManager.default.removeItem(atPath: ca) }
        try await KafkaFront.withRunning(configuration: configuration, logger: quietLogger) { front in
            let port = try #require(front.listeners.first { $0.kind == .saslSSL }).port
            #expect(try await Self.client("hangup", port: port, ca: ca).contains("hung up"))
            try await waitUntil("the first hang-up to be reported") { reports.withLock { !$0.isEmpty } }
            #expect(reports.withLock { $0 } == ["hung up after the certificate"])

            #expect(try await Self.client("complete", port: port, ca: ca).contains("completed"))
            try await waitUntil("the handshake to be recorded") { front.handshakeCompleted(from: "127.0.0.1") }
            for _ in 0..<3 { _ = try await Self.client("hangup", port: port, ca: ca) }
            // Each connection is served in its own task: wait until the front has judged all three.
            try await waitUntil("the three hang-ups to be judged") { front.unreportedHangUps == 3 }
            #expect(reports.withLock { $0 } == ["hung up after the certificate"])
        }
    }
}
