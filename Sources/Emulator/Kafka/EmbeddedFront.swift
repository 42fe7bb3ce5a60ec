import KafkaBroker
import KafkaFront
import Logging
import PortContract
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The embedded Kafka as the emulator runs it: our broker with the org's topics behind a
/// plaintext and a SASL_SSL listener per node (and an internal one for the emulator's own
/// producer), the customer's SCRAM user, Port's ACLs with each refusal recorded as a
/// violation, and the CA written to a file for clients.
struct EmbeddedFront: Sendable {
    let front: KafkaFront
    /// The internal listeners, comma-separated: the emulator's producer's bootstrap.
    let internalBootstrap: String
    /// The plaintext listeners, comma-separated: the default bootstrap.
    let plaintextBootstrap: String
    /// The SASL_SSL listeners, comma-separated.
    let saslSSLBootstrap: String
    /// The PEM file of the CA that signed the SASL_SSL listeners' certificate.
    let caFile: String
    /// A CA file the emulator wrote and removes at stop.
    private let ownedCAFile: String?

    /// The broker behind the front.
    var broker: KafkaBroker { front.broker }

    static func start(
        _ configuration: EmulatorConfiguration,
        recorder: CallRecorder,
        logger: Logger
    ) async throws -> EmbeddedFront {
        var brokerConfiguration = KafkaBrokerConfiguration()
        brokerConfiguration.nodeCount = configuration.brokers
        brokerConfiguration.groups.initialRebalanceDelay = configuration.kafkaFront.initialRebalanceDelay
        brokerConfiguration.retentionBytes = configuration.kafkaRetentionBytes
        let broker = KafkaBroker(configuration: brokerConfiguration)
        for topic in [configuration.runsTopic, configuration.changeLogTopic] {
            broker.createTopic(topic, partitions: Int32(configuration.partitions))
        }
        let settings = configuration.kafkaFront
        let identity = try tlsIdentity(settings)
        var ownedCAFile: String?
        let caFile: String
        if let certificate = settings.tlsCertificateFile {
            caFile = settings.caFile ?? certificate
        } else {
            caFile = try settings.caFile ?? temporaryCAPath()
            do {
                try Data(identity.caPEM.utf8).write(to: URL(fileURLWithPath: caFile), options: .atomic)
            } catch {
                throw EmulatorError(message: "cannot write the Kafka CA to \(caFile): \(describeError(error))")
            }
            ownedCAFile = caFile
        }
        let username = configuration.kafkaUsername
        var front = KafkaFrontConfiguration(
            broker: broker,
            plaintextPrincipal: username,
            acl: KafkaACL(
                enabled: settings.acls,
                orgID: configuration.orgID,
                readableTopics: [configuration.runsTopic, configuration.changeLogTopic]
            )
        )
        front.internalListeners = true
        front.idleTimeout = settings.idleTimeout
        front.host = configuration.host
        front.advertisedHost = settings.advertisedHost
        front.basePort = settings.port
        front.tls = identity
        // Port's brokers take SCRAM-SHA-512; the customer's user has that credential only.
        front.users = [username: [.sha512: ScramCredential(mechanism: .sha512, password: settings.password)]]
        front.onRefusal = { refusal in recorder.record(Violation(refusal)) }
        // A consumer that does not trust the CA retries its handshake every second or so
        // (librdkafka backs off to 10 s): one violation per 5 s says it.
        let lastUntrusted = Mutex<ContinuousClock.Instant?>(nil)
        front.onUntrustedCertificate = { [caFile] alert in
            let now = ContinuousClock.now
            let due = lastUntrusted.withLock { last in
                guard last.map({ now - $0 > .seconds(5) }) ?? true else { return false }
                last = now
                return true
            }
            if due { recorder.record(Violation(untrustedCertificate: alert, caFile: caFile)) }
        }
        let started: KafkaFront
        do {
            started = try await KafkaFront.bind(configuration: front, logger: logger)
        } catch {
            if let ownedCAFile { try? FileManager.default.removeItem(atPath: ownedCAFile) }
            let ports =
                settings.port == 0
                ? ""
                : " (ports \(settings.port)–\(settings.port + 2 * configuration.brokers - 1) taken? --kafka-port 0 picks free ones)"
            throw EmulatorError(message: "the Kafka front did not start: \(error)\(ports)")
        }
        return EmbeddedFront(
            front: started,
            internalBootstrap: started.bootstrapServers(.internal).joined(separator: ","),
            plaintextBootstrap: started.bootstrapServers(.plaintext).joined(separator: ","),
            saslSSLBootstrap: started.bootstrapServers(.saslSSL).joined(separator: ","),
            caFile: caFile,
            ownedCAFile: ownedCAFile
        )
    }

    /// Serves the front's listeners until cancelled.
    func run() async {
        await front.run()
    }

    func stop() async {
        await front.stop()
        guard let ownedCAFile else { return }
        try? FileManager.default.removeItem(atPath: ownedCAFile)
        let directory = URL(fileURLWithPath: ownedCAFile).deletingLastPathComponent()
        if directory.lastPathComponent.hasPrefix("port-emulator-") {
            try? FileManager.default.removeItem(at: directory)
        }
    }

    private static func tlsIdentity(_ settings: EmbeddedKafkaFrontSettings) throws -> FrontTLSIdentity {
        guard let certificateFile = settings.tlsCertificateFile, let keyFile = settings.tlsKeyFile else {
            // The CA `port-emulator ca install` made (and trusted system-wide), else a new one.
            if let ca = try LocalCA().load() {
                return try FrontTLSIdentity.issue(hosts: [settings.advertisedHost], by: ca)
            }
            return try FrontTLSIdentity.generate(hosts: [settings.advertisedHost])
        }
        func read(_ path: String, _ what: String) throws -> String {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw EmulatorError(message: "cannot read the Kafka TLS \(what) \(path)")
            }
            return text
        }
        let chain = try read(certificateFile, "certificate")
        let caText = try settings.caFile.map { try read($0, "CA") } ?? chain
        return FrontTLSIdentity(certificateChainPEM: chain, privateKeyPEM: try read(keyFile, "key"), caPEM: caText)
    }

    private static func temporaryCAPath() throws -> String {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent(
                "port-emulator-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
            )
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw EmulatorError(
                message: "cannot create \(directory.path) for the Kafka CA: \(describeError(error))"
            )
        }
        return directory.appendingPathComponent("kafka-ca.pem").path
    }
}

extension Violation {
    /// A client that aborted the SASL_SSL handshake because it does not trust the emulator's
    /// CA: what to do about it, since the client itself only times out.
    init(untrustedCertificate alert: String, caFile: String) {
        self.init(
            time: Date(),
            clientID: nil,
            method: "KAFKA",
            path: "TLS handshake",
            runID: nil,
            status: 0,
            code: "TLS_CERTIFICATE_UNTRUSTED",
            rule: "kafka-tls-ca",
            message: "a Kafka client ended its TLS handshake with the SASL_SSL listener (\(alert)): most likely it "
                + "does not trust the emulator's CA. Give it the CA file \(caFile) (KAFKA_SSL_CA_LOCATION, ssl.ca.location), "
                + "or, for a consumer that uses only the system's CAs (port-agent), run "
                + "`sudo port-emulator ca install` once and restart the emulator"
        )
    }

    /// A request the Kafka front refused under Port's ACLs: method `KAFKA`, the API and
    /// resource as the path, Kafka's error code as the status.
    init(_ refusal: KafkaRefusal) {
        self.init(
            time: Date(),
            clientID: refusal.principal,
            method: "KAFKA",
            path: "\(refusal.api) \(refusal.resource)",
            runID: nil,
            status: Int(refusal.errorCode),
            code: refusal.errorName,
            rule: refusal.rule,
            message: refusal.message
        )
    }
}
