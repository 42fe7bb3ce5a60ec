public import Logging
import PortKafka

extension PortConsumer {
    /// A consumer built from `configuration` the way the `port-consumer` executable builds
    /// it: a pooled ``PortClient``, a Kafka group member on `ORG_ID.runs` (and
    /// `ORG_ID.change.log` when `consumeChangeLog` is set) with manual commits, a dead-letter
    /// producer when a topic is set, and signature checks unless `verifySignatures` is off.
    ///
    /// Run it in a `ServiceGroup` (or call ``run()``); when it stops it closes what it built.
    ///
    /// - Parameters:
    ///   - configuration: The settings, usually `ConsumerConfiguration(environment:)`.
    ///   - handlers: Run handlers by action identifier.
    ///   - nodeHandlers: Run handlers by workflow node identifier.
    ///   - changeHandlers: Entity-change handlers by blueprint identifier (`*` for any).
    ///   - metrics: Where run counts and durations go (swift-metrics).
    ///   - logger: The logger of the consumer and its clients.
    /// - Throws: `KafkaError` when librdkafka refuses the configuration.
    public static func make(
        configuration: ConsumerConfiguration,
        handlers: [String: RunHandler],
        nodeHandlers: [String: RunHandler] = [:],
        changeHandlers: [String: ChangeHandler] = [:],
        metrics: ConsumerMetrics = ConsumerMetrics(),
        logger: Logger = Logger(label: "port-consumer")
    ) throws -> PortConsumer {
        var kafkaConfiguration = KafkaConsumerConfiguration(
            bootstrapServers: configuration.brokers,
            groupID: configuration.groupID
        )
        kafkaConfiguration.clientID = "port-consumer"
        kafkaConfiguration.groupInstanceID = configuration.groupInstanceID
        kafkaConfiguration.securityProtocol = configuration.security
        kafkaConfiguration.additionalProperties = ["fetch.wait.max.ms": String(configuration.fetchWaitMaxMilliseconds)]
        let kafka = try KafkaConsumer.make(configuration: kafkaConfiguration, logger: logger)
        let deadLetters: KafkaProducer? = try configuration.deadLetterTopic.map { _ in
            var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: configuration.brokers)
            producerConfiguration.securityProtocol = configuration.security
            return try KafkaProducer.make(configuration: producerConfiguration, logger: logger)
        }
        let client = PortClient(
            apiURL: configuration.apiURL,
            clientID: configuration.clientID,
            clientSecret: configuration.clientSecret,
            maxConnections: configuration.concurrency,
            logger: logger
        )
        var settings = Settings(runsTopic: configuration.runsTopic)
        settings.concurrency = configuration.concurrency
        settings.deadLetterTopic = configuration.deadLetterTopic
        settings.signingSecret = configuration.verifySignatures ? configuration.clientSecret : nil
        settings.changeLogTopic = configuration.consumeChangeLog ? configuration.changeLogTopic : nil
        return PortConsumer(
            consumer: kafka,
            deadLetters: deadLetters,
            runtime: RunRuntime(client: client, handlers: handlers, nodeHandlers: nodeHandlers, logger: logger),
            changeHandlers: changeHandlers,
            settings: settings,
            metrics: metrics,
            logger: logger,
            onStop: {
                await deadLetters?.close()
                await client.shutdown()
            }
        )
    }
}
