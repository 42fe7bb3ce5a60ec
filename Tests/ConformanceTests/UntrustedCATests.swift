import Foundation
import TestSupport
import Testing

/// A consumer that does not trust the SASL_SSL listener's CA only times out on its own side;
/// verify must say why, and what to do.
@Suite("verify names an untrusted CA", .heavy, .timeLimit(.minutes(10)))
struct UntrustedCATests {
    @Test("a consumer given the system's CAs instead of the emulator's: verify's explanation names the CA and the fix")
    func untrustedCA() async throws {
        let directory = try Repository.temporaryDirectory()
        // port-consumer with Port's production settings, except that its CA file is the
        // system's bundle (what a consumer that ignores KAFKA_SSL_CA_LOCATION trusts).
        let consumer =
            "KAFKA_SSL_CA_LOCATION=/etc/ssl/certs/ca-certificates.crt exec '\(Repository.binaries)/port-consumer' "
            + "--handlers '\(Repository.handlers)'"
        let (status, output) = try await runExecutable(
            Repository.binaries + "/port-emulator",
            [
                "verify", "--kafka-security", "sasl_ssl", "--fixtures", Repository.fixtures, "--scenarios",
                Repository.scenarios, "--only", "01_create_microservice", "--startup-timeout", "15s",
                "--consumer-log", directory + "/consumer.log", "--", "sh", "-c", consumer,
            ]
        )
        #expect(status != 0, "\(output)")
        #expect(
            output.contains("TLS_CERTIFICATE_UNTRUSTED") || output.contains("not trust the emulator's CA"),
            "\(output)"
        )
        #expect(output.contains("port-emulator ca install"), "\(output)")
        let log = (try? String(contentsOfFile: directory + "/consumer.log", encoding: .utf8)) ?? ""
        #expect(log.contains("certificate verify failed"), "the consumer's own side: \(log.suffix(1500))")
    }
}
