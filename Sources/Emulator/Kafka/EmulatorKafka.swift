import KafkaFront
import Logging
public import PortKafka
import ServiceLifecycle

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An existing Kafka cluster the emulator publishes to instead of its embedded one.
public struct ExternalKafka: Sendable {
    /// `host:port` of one or more brokers.
    public var bootstrapServers: [String]
    /// How to connect: plaintext, TLS, SASL, or SASL over TLS as Port's brokers require.
    public var security: KafkaSecurityProtocol = .plaintext
    /// How long to wait for the brokers at start-up before giving up.
    public var connectTimeout: Duration = .seconds(10)

    /// A cluster at `bootstrapServers`, reached in plaintext.
    public init(bootstrapServers: [String], security: KafkaSecurityProtocol = .plaintext) {
        self.bootstrapServers = bootstrapServers
        self.security = security
    }
}

/// The emulator's Kafka: the embedded broker, or a connection to an external cluster.
/// Either way the organization's topics exist once `start` returns.
struct EmulatorKafka: Sendable {
    /// The brokers consumers connect to, comma-separated (the front's plaintext listeners).
    let bootstrapServers: String
    /// `embedded` or `external`.
    let kind: String
    /// The producer invocations and change-log messages go out through.
    let producer: KafkaProducer
    /// The embedded broker and its front, when there is one (fault injection reaches it).
    let front: EmbeddedFront?

    static func start(
        _ configuration: EmulatorConfiguration,
        recorder: CallRecorder,
        logger: Logger
    ) async throws -> EmulatorKafka {
        let topics = [configuration.runsTopic, configuration.changeLogTopic]
        guard let external = configuration.externalKafka else {
            let front = try await EmbeddedFront.start(configuration, recorder: recorder, logger: logger)
            let producer: KafkaProducer
            do {
                // The emulator publishes like any client: a librdkafka producer on the
                // internal listeners, so every invocation crosses the broker's Produce path.
                // It connects once `run()` serves the listeners.
                producer = try makeProducer(
                    [front.internalBootstrap],
                    security: .plaintext,
                    timeout: configuration.publishTimeout,
                    logger: logger
                )
            } catch {
                await front.stop()
                throw error
            }
            return EmulatorKafka(
                bootstrapServers: front.plaintextBootstrap,
                kind: "embedded",
                producer: producer,
                front: front
            )
        }
        logger.info(
            "connecting to Kafka",
            metadata: [
                "bootstrap": "\(external.bootstrapServers.joined(separator: ","))",
                "timeout": "\(external.connectTimeout)",
            ]
        )
        let producer = try makeProducer(
            external.bootstrapServers,
            security: external.security,
            timeout: configuration.publishTimeout,
            logger: logger
        )
        do {
            try await ensureTopics(topics, on: producer, external: external, partitions: configuration.partitions)
        } catch {
            await producer.close(timeout: .zero)
            throw error
        }
        return EmulatorKafka(
            bootstrapServers: external.bootstrapServers.joined(separator: ","),
            kind: "external",
            producer: producer,
            front: nil
        )
    }

    /// The publisher's producer: acknowledged by all replicas, sent after at most 1 ms,
    /// given up after `timeout`.
    private static func makeProducer(
        _ servers: [String],
        security: KafkaSecurityProtocol,
        timeout: Duration,
        logger: Logger
    ) throws -> KafkaProducer {
        var configuration = KafkaProducerConfiguration(bootstrapServers: servers)
        configuration.messageTimeout = timeout
        configuration.clientID = "port-emulator"
        configuration.securityProtocol = security
        configuration.linger = .milliseconds(1)
        // A request left unanswered (an injected outage) is retried after socket.timeout.ms
        // (librdkafka's 60 s by default): 5 s keeps an invocation from waiting a minute.
        configuration.additionalProperties["socket.timeout.ms"] = "5000"
        // PORT_EMULATOR_KAFKA_DEBUG=broker,msg,protocol logs librdkafka's own debug lines.
        if let debug = ProcessInfo.processInfo.environment["PORT_EMULATOR_KAFKA_DEBUG"] {
            configuration.additionalProperties["debug"] = debug
        }
        return try KafkaProducer.make(configuration: configuration, logger: logger)
    }

    /// Checks the topics exist on the external cluster and creates those that do not.
    private static func ensureTopics(
        _ topics: [String],
        on producer: KafkaProducer,
        external: ExternalKafka,
        partitions: Int
    ) async throws {
        let brokerList = external.bootstrapServers.joined(separator: ",")
        let existing: [String: Int]
        do {
            existing = try await producer.topicPartitionCounts(timeout: external.connectTimeout)
        } catch {
            throw EmulatorError(
                message: "cannot reach Kafka at \(brokerList) within \(external.connectTimeout) (\(error)); "
                    + "check --kafka-bootstrap and the SASL/TLS options"
            )
        }
        let missing = topics.filter { existing[$0] == nil }
        guard !missing.isEmpty else { return }
        do {
            try await producer.createTopics(missing, partitions: partitions, timeout: external.connectTimeout)
        } catch {
            throw EmulatorError(
                message: "topics \(missing.joined(separator: ", ")) do not exist on \(brokerList) and creating them "
                    + "failed (\(error)); create them, or grant this user CreateTopics"
            )
        }
    }

    /// Serves the front, if there is one, until a graceful shutdown, then stops everything:
    /// the emulator's Kafka part, shut down after every other part.
    func run() async {
        await withDiscardingTaskGroup { group in
            if let front { group.addTask { await front.run() } }
            try? await gracefulShutdown()
            // What the publisher still holds goes out before the listeners close.
            await producer.close(timeout: .seconds(5))
            await front?.stop()  // its run() ends the connections and returns
        }
    }

    /// Flushes and closes the producer, then closes the front.
    func stop() async {
        await producer.close(timeout: .seconds(5))
        await front?.stop()
    }

    /// Stops at once (start-up failed after Kafka was up).
    func shutdownNow() async {
        await producer.close(timeout: .zero)
        await front?.stop()
    }
}
