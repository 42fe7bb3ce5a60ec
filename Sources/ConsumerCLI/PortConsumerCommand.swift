package import ArgumentParser
import ChildProcesses
import Consumer
import HTTPServer
import Logging
import Metrics
import PortContract
import Prometheus
import ServiceLifecycle
import UnixSignals

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `port-consumer`: the production consumer, as the executable runs it.
package struct PortConsumerCommand: AsyncParsableCommand {
    package static let configuration = CommandConfiguration(
        commandName: "port-consumer",
        abstract: "Consume Port's self-service invocations from Kafka, run their handlers, report to Port's API.",
        discussion: """
            Settings come from the environment, filled in from --env-file (port-emulator serve \
            --env-file writes one): PORT_CLIENT_ID, PORT_CLIENT_SECRET, PORT_ORG_ID, PORT_API_URL \
            (default https://api.getport.io/v1), KAFKA_BROKERS, KAFKA_USERNAME, KAFKA_PASSWORD \
            (SASL_SSL with SCRAM-SHA-512 when a username is set), KAFKA_CONSUMER_GROUP_ID (ORG_ID.* \
            or the username), KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_MECHANISM, KAFKA_SSL_CA_LOCATION, \
            PORT_CONSUMER_HANDLERS, PORT_CONSUMER_CONCURRENCY (16), PORT_CONSUMER_DEAD_LETTER_TOPIC, \
            PORT_CONSUMER_VERIFY_SIGNATURES (true), PORT_CONSUMER_CHANGE_LOG (false: also consume \
            ORG_ID.change.log for the handler file's changeLog handlers), PORT_CONSUMER_INSTANCE_ID \
            (port-consumer-HOSTNAME: Kafka's group.instance.id, so a restart gets its partitions back at \
            once; none turns it off), KAFKA_FETCH_WAIT_MAX_MS (500), \
            PORT_CONSUMER_METRICS_PORT \
            (serve Prometheus metrics at /metrics on it) and PORT_CONSUMER_METRICS_HOST (127.0.0.1).

            Handlers come from a JSON or YAML handler file: --handlers, else PORT_CONSUMER_HANDLERS, else \
            ./handlers.json or ./handlers.yaml, else ./fixtures/handlers/handlers.json (the fixture actions' scripts).
            """,
        version: HarnessVersion.current,
    )

    @Option(name: .customLong("env-file"), help: "A KEY=VALUE file of settings; the environment wins.")
    var envFile: String?

    @Option(help: "The handler file (JSON or YAML).")
    var handlers: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    package init() {}

    package func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "port-consumer")
        let configuration: ConsumerConfiguration
        do {
            let dotEnv = try envFile.map { path -> String in
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ConsumerConfiguration.Problem(description: "--env-file \(path) cannot be read")
                }
                return String(decoding: data, as: UTF8.self)
            }
            configuration = try ConsumerConfiguration(environment: ProcessInfo.processInfo.environment, dotEnv: dotEnv)
        } catch {
            writeToStandardError("port-consumer: \(error)\n")
            throw ExitCode(2)
        }
        let handlerPath =
            handlers ?? configuration.handlersPath
            ?? ["handlers.json", "handlers.yaml", "fixtures/handlers/handlers.json"].first {
                FileManager.default.fileExists(atPath: $0)
            }
        var actionHandlers: [String: RunHandler] = [:]
        var nodeHandlers: [String: RunHandler] = [:]
        var changeHandlers: [String: ChangeHandler] = [:]
        if let handlerPath {
            do {
                (actionHandlers, nodeHandlers, changeHandlers) = try HandlerFile.load(
                    handlerPath,
                    signingSecret: configuration.clientSecret
                )
            } catch {
                writeToStandardError("port-consumer: \(error)\n")
                throw ExitCode(2)
            }
        }
        logger.info(
            "starting",
            metadata: [
                "settings": "\(configuration.redactedDescription)", "handlers": "\(handlerPath ?? "none")",
                "actions": "\(actionHandlers.keys.sorted().joined(separator: ","))",
            ]
        )
        let metricsServer = try startMetricsEndpoint(logger: logger)
        let consumer = try PortConsumer.make(
            configuration: configuration,
            handlers: actionHandlers,
            nodeHandlers: nodeHandlers,
            changeHandlers: changeHandlers,
            logger: logger
        )
        // The metrics server is a service of the group: a shutdown stops it after the consumer.
        let services: [any Service] = (metricsServer.map { [$0] } ?? []) + [consumer]
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        )
        do {
            try await group.run()
        } catch {
            logger.error("port-consumer stopped: \(error)")
            throw ExitCode.failure
        }
    }

    /// With `PORT_CONSUMER_METRICS_PORT`, bootstraps swift-metrics with Prometheus and serves
    /// `GET /metrics`.
    private func startMetricsEndpoint(logger: Logger) throws -> HTTPServer? {
        let environment = ProcessInfo.processInfo.environment
        guard let portText = environment["PORT_CONSUMER_METRICS_PORT"] else { return nil }
        guard let port = Int(portText), (0...65535).contains(port) else {
            writeToStandardError("port-consumer: PORT_CONSUMER_METRICS_PORT '\(portText)' is not a port\n")
            throw ExitCode(2)
        }
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        var router = HTTPRouter<BasicRequestContext>()
        router.addImmediate(.get, "/metrics") { _ in
            HTTPResponse(
                status: 200,
                headers: [("Content-Type", "text/plain; version=0.0.4")],
                body: registry.emitToBuffer()
            )
        }
        var configuration = HTTPServer.Configuration()
        configuration.host = environment["PORT_CONSUMER_METRICS_HOST"] ?? "127.0.0.1"
        configuration.port = port
        let server = try HTTPServer.start(configuration: configuration, router: router, logger: logger)
        logger.info("metrics", metadata: ["url": "\(server.baseURL)/metrics"])
        return server
    }
}
