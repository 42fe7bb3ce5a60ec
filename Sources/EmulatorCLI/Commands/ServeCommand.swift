import ArgumentParser
import Emulator
import JQ
import Logging
import PortContract
import PortKafka
import ServiceLifecycle
import UnixSignals

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PortEmulatorCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serve",
            abstract: "Start the embedded Kafka and the HTTP API, print one ready line, run until SIGINT or SIGTERM."
        )

        @OptionGroup
        var options: ServeOptions

        @OptionGroup(title: "State")
        var state: StateOptions

        @Option(
            name: .customLong("env-file"),
            help: ArgumentHelp(
                "Write the consumer's settings (PORT_API_URL, KAFKA_BROKERS, ...) here once ready; removed on stop.",
                discussion:
                    "With the embedded Kafka it also holds port-agent's local-mode settings: it can be port-agent's .env."
            )
        )
        var envFile: String?

        @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
        var logLevel = "info"

        func validate() throws {
            guard Logger.Level(rawValue: logLevel) != nil else {
                throw ValidationError("--log-level must be one of trace, debug, info, notice, warning, error, critical")
            }
        }

        func run() async throws {
            bootstrapLogging(Logger.Level(rawValue: logLevel) ?? .info)
            // The fixtures' jq conditions that compiled at an earlier start are not compiled again.
            JQSyntax.remember(in: JQCompileRecord.perUser())
            let logger = Logger(label: "port-emulator")
            var configuration = try options.configuration()
            state.apply(to: &configuration)
            if let directory = options.fixturesDirectory {
                do {
                    configuration.fixtures = try Fixtures.load(from: directory)
                } catch {
                    throw ValidationError("--fixtures: \(error)")
                }
                logger.info(
                    "fixtures loaded",
                    metadata: [
                        "directory": "\(directory)", "blueprints": "\(configuration.fixtures.blueprints.count)",
                        "actions": "\(configuration.fixtures.actions.count)",
                    ]
                )
            }
            let service = EmulatorService(configuration: configuration, envFile: envFile, logger: logger) {
                info in
                // Scripts wait for this line through a pipe: write it unbuffered.
                say(info.readyLine)
            }
            let group = ServiceGroup(
                configuration: .init(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
            )
            do {
                try await group.run()
            } catch {
                logger.error("port-emulator stopped: \(error)")
                throw ExitCode.failure
            }
        }
    }
}
