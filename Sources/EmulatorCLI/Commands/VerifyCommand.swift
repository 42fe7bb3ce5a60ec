import ArgumentParser
import ChildProcesses
import Conformance
import Emulator
import JQ
import Logging
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension PortEmulatorCommand {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Check a consumer (any language) against Port's contract: run scenarios, report pass or fail.",
            discussion: """
                verify starts an emulator with its embedded Kafka, then the consumer command given \
                after `--`, with the emulator's settings in its environment: PORT_API_URL, \
                PORT_API_BASE_URL, PORT_CLIENT_ID, PORT_CLIENT_SECRET, PORT_ORG_ID, KAFKA_BROKERS, \
                KAFKA_CONSUMER_GROUP_ID, and port-agent's names for its local mode: STREAMER_NAME=KAFKA, \
                USING_LOCAL_PORT_INSTANCE=True, KAFKA_CONSUMER_BOOTSTRAP_SERVERS (and KAFKA_CONSUMER_BROKERS), \
                KAFKA_CONSUMER_SECURITY_PROTOCOL=PLAINTEXT, KAFKA_CONSUMER_AUTO_OFFSET_RESET=earliest, \
                KAFKA_RUNS_TOPIC and KAFKA_CHANGE_LOG_TOPIC.

                Readiness: with --ready-log REGEX, the consumer is ready once its output matches; \
                otherwise it is ready at its first call to Port's API, and until then the first \
                scenario's deadline stretches to --startup-timeout. Its invocation waits in Kafka \
                meanwhile (offsets reset to earliest), so nothing is lost while it joins its group.

                Scenarios (fixtures/scenarios/*.json) run one at a time: trigger, optional faults \
                and approval, then the run's status, logs, links, label, summary, entities, \
                violations and API calls are checked. One line is printed per scenario as it \
                finishes, then a table. A consumer that exits is a failure of the scenario in \
                flight, explained with its last output; it is started again (up to --max-restarts) \
                for the next scenarios.

                Exit status: 0 when every scenario passes, 1 when any fails, 2 when verify itself \
                cannot run (a bad scenario or chaos file, a consumer command that cannot start, an \
                emulator it cannot reach), 64 for a usage error.

                Lambda: with --lambda the command is a Lambda function's runtime client, run by the emulator and \
                invoked as Lambda's Kafka event source mapping invokes it (see --lambda).

                Example: port-emulator verify --junit report.xml -- node consumer.js
                Example: port-emulator verify --lambda -- python -m awslambdaric lambda_function.lambda_handler
                """
        )

        @Option(help: "Directory of scenario files (*.json).")
        var scenarios = "fixtures/scenarios"

        @Option(help: "Run only the scenarios whose name contains this (repeatable).")
        var only: [String] = []

        @Option(help: "Write a JUnit XML report here (GitHub Actions, GitLab, Jenkins read it).")
        var junit: String?

        @Option(help: "Write a JSON report here.")
        var json: String?

        @Option(help: "A chaos profile: a name in FIXTURES/chaos (e.g. reliability) or a JSON file.")
        var chaos: String?

        @Option(help: "Blueprints, actions and invocations the emulator loads.")
        var fixtures = "fixtures"

        @Option(
            name: .customLong("against"),
            help: "Verify a consumer already running against the emulator at this URL (no command needed)."
        )
        var against: String?

        @Option(name: .customLong("ready-log"), help: "A regular expression the consumer prints once it is ready.")
        var readyLog: String?

        @Option(name: .customLong("startup-timeout"), help: "How long the consumer has to become ready.")
        var startupTimeout = "60s"

        @Option(help: "How long to keep watching after a scenario's runs finish, for late writes.")
        var settle = "300ms"

        @Option(name: .customLong("consumer-log"), help: "Where the consumer's stdout and stderr go.")
        var consumerLog = "port-emulator-verify-consumer.log"

        @Option(name: .customLong("max-restarts"), help: "How often a crashed consumer is started again.")
        var maxRestarts = 3

        @Option(name: .customLong("log-level"), help: "The emulator's own log level (stderr).")
        var logLevel = "error"

        @Option(
            name: .customLong("kafka-security"),
            help: ArgumentHelp(
                "plaintext, or sasl_ssl: the consumer gets only Port's production settings.",
                discussion: "sasl_ssl: KAFKA_BROKERS is the SASL_SSL listeners, KAFKA_SECURITY_PROTOCOL=SASL_SSL, "
                    + "KAFKA_USERNAME/KAFKA_PASSWORD (SCRAM-SHA-512), KAFKA_SSL_CA_LOCATION and SSL_CERT_FILE; "
                    + "no plaintext address; port-agent in production mode."
            )
        )
        var kafkaSecurity = "plaintext"

        @Flag(
            name: .customLong("polling"),
            help: ArgumentHelp(
                "The consumer gets its work by HTTP polling (claim-pending and ack), not from Kafka.",
                discussion: "The organization's portAgentStreamerName is set to POLLING before the first scenario, "
                    + "so no run is published to Kafka, and the consumer gets STREAMER_NAME=POLLING (port-agent's "
                    + "setting)."
            )
        )
        var polling = false

        @Flag(
            name: .customLong("lambda"),
            help: ArgumentHelp(
                "The command after -- is a Lambda function's runtime client (python -m awslambdaric app.handler).",
                discussion: "The emulator serves the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API) and runs the command "
                    + "as the function's execution environment, with the consumer's settings in its environment "
                    + "(PORT_API_URL, PORT_CLIENT_ID, PORT_CLIENT_SECRET, ...) as a user sets them on a function; its "
                    + "event source mapping reads ORG_ID.runs through the SASL_SSL front and invokes the function "
                    + "with batches as Lambda does. The report lists each scenario's invocations: batch, outcome, "
                    + "attempt, duration. See the --lambda-* options."
            )
        )
        var lambda = false

        @OptionGroup(title: "Lambda")
        var lambdaOptions: LambdaOptions

        @OptionGroup(title: "Memory")
        var caps: CapOptions

        @Argument(parsing: .postTerminator, help: "The consumer's command line, after --.")
        var command: [String] = []

        func validate() throws {
            if against == nil && command.isEmpty {
                throw ValidationError("give the consumer's command after --, or --against URL for one already running")
            }
            if against != nil && !command.isEmpty {
                throw ValidationError("--against verifies a consumer already running: give no command with it")
            }
            if against != nil, caps.isChanged {
                throw ValidationError(
                    "--max-journal-entries and --max-finished-runs cap the emulator verify starts; with --against, "
                        + "set them on that emulator's serve"
                )
            }
            if lambda {
                if against != nil { throw ValidationError("--lambda runs the function itself: give no --against") }
                if polling { throw ValidationError("--lambda and --polling do not go together") }
                if kafkaSecurity != "plaintext" {
                    throw ValidationError("--lambda always reads over SASL_SSL with SCRAM: drop --kafka-security")
                }
                if readyLog != nil {
                    throw ValidationError(
                        "--lambda: the function is ready when its runtime client asks for work; drop --ready-log"
                    )
                }
                _ = try lambdaOptions.settings(command: command)
            } else if lambdaOptions.isChanged {
                throw ValidationError("the --lambda-* options need --lambda")
            }
            guard Verifier.KafkaSecurityMode(rawValue: kafkaSecurity) != nil else {
                throw ValidationError("--kafka-security must be plaintext or sasl_ssl (got \(kafkaSecurity))")
            }
            for (name, value) in [("--startup-timeout", startupTimeout), ("--settle", settle)]
            where DurationText.parse(value) == nil {
                throw ValidationError("\(name) must be a duration such as 500ms or 60s (got \(value))")
            }
        }

        func run() async throws {
            bootstrapLogging(Logger.Level(rawValue: logLevel) ?? .error)
            JQSyntax.remember(in: JQCompileRecord.perUser())
            let options: Verifier.Options
            do {
                options = try makeOptions()
            } catch {
                writeToStandardError("port-emulator verify: \(error)\n")
                throw ExitCode(2)
            }
            say("verifying \(options.scenarios.count) scenario(s)" + (chaos.map { " under chaos profile \($0)" } ?? ""))
            let verifier = Verifier(options: options, logger: Logger(label: "port-emulator")) { say($0) }
            let report: VerifyReport
            do {
                report = try await verifier.run()
            } catch {
                writeToStandardError("port-emulator verify: \(error)\n")
                throw ExitCode(2)
            }
            say("")
            say(report.table)
            do {
                if let junit { try Data(report.junitXML.utf8).write(to: URL(fileURLWithPath: junit)) }
                if let json { try report.prettyJSON.write(to: URL(fileURLWithPath: json)) }
            } catch {
                writeToStandardError("port-emulator verify: cannot write a report: \(error)\n")
                throw ExitCode(2)
            }
            if !report.passed { throw ExitCode(1) }
        }

        private func makeOptions() throws -> Verifier.Options {
            var scenarios = try Scenario.load(directory: self.scenarios)
            if !only.isEmpty {
                scenarios = scenarios.filter { scenario in only.contains { scenario.name.contains($0) } }
                guard !scenarios.isEmpty else { throw ScenarioError(message: "--only matched no scenario") }
            }
            var options = Verifier.Options(scenarios: scenarios)
            options.consumerCommand = command
            options.against = against
            if against == nil {
                do {
                    options.fixtures = try Fixtures.load(from: fixtures)
                } catch {
                    throw ScenarioError(message: "--fixtures: \(error)")
                }
            }
            options.chaos = try chaos.map { try ChaosProfile.load($0, directory: fixtures + "/chaos") }
            options.readyPattern = readyLog
            options.startupTimeout = DurationText.parse(startupTimeout)!
            options.settle = DurationText.parse(settle)!
            options.consumerLogPath = consumerLog
            options.maxRestarts = maxRestarts
            options.kafkaSecurity = Verifier.KafkaSecurityMode(rawValue: kafkaSecurity) ?? .plaintext
            options.polling = polling
            options.journalCapacity = caps.journalEntries
            options.finishedRunCapacity = caps.finishedRuns
            if lambda {
                options.lambda = try lambdaOptions.settings(command: command)
                // --lambda-log names the function's output as well as --consumer-log does.
                if lambdaOptions.logPath != LambdaSettings().logPath { options.consumerLogPath = lambdaOptions.logPath }
            }
            return options
        }
    }
}
