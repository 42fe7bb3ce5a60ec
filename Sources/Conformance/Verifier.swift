public import Emulator
public import Logging
import PortContract
import PortKafka
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `port-emulator verify`: runs scenarios against a consumer through an emulator and judges
/// what the consumer did against Port's contract.
///
/// With a consumer command, it starts its own emulator (embedded Kafka, port 0) and the
/// consumer with the emulator's settings in its environment; with `against`, it drives an
/// emulator (and a consumer) already running. Scenarios run one at a time, so every call
/// and violation in the journal belongs to the scenario whose run it names.
public final class Verifier: Sendable {
    /// What to verify, and how.
    public struct Options: Sendable {
        /// The scenarios, in order.
        public var scenarios: [Scenario]
        /// The consumer's command line; empty with `against`.
        public var consumerCommand: [String] = []
        /// The URL of an emulator already running, with its consumer.
        public var against: String?
        /// The fixtures the emulator loads (when `verify` starts it).
        public var fixtures = Fixtures()
        /// The chaos profile, if any.
        public var chaos: ChaosProfile?
        /// How long the consumer has to become ready.
        public var startupTimeout: Duration = .seconds(60)
        /// A regular expression the consumer prints once ready; without it, the consumer is
        /// ready at its first call to Port's API.
        public var readyPattern: String?
        /// How long `verify` keeps watching after a scenario's runs finish, for late writes.
        public var settle: Duration = .milliseconds(300)
        /// Where the consumer's output goes.
        public var consumerLogPath: String = "port-emulator-verify-consumer.log"
        /// How many times a consumer that crashes on its own is started again.
        public var maxRestarts = 3
        /// The emulator's organization id.
        public var orgID = "org_emulator"
        /// Extra environment for the consumer.
        public var environment: [String: String] = [:]
        /// How the consumer reaches Kafka: `.plaintext`, or `.saslSSL` with only the
        /// production settings (SASL_SSL brokers, SCRAM user, CA).
        public var kafkaSecurity = KafkaSecurityMode.plaintext
        /// Whether the consumer gets its work by HTTP polling (contract §9) instead of Kafka:
        /// the organization's streamer is set to `POLLING` before the first scenario, and the
        /// consumer gets `STREAMER_NAME=POLLING`, as port-agent reads it.
        public var polling = false
        /// The consumer is a Lambda function: `consumerCommand` is its runtime client, run
        /// by the emulator's execution environment and invoked by its event source mapping
        /// with these settings (their command, environment and log are set from the options).
        public var lambda: LambdaSettings?
        /// How many API calls and refused requests the emulator verify starts keeps
        /// (`--max-journal-entries`).
        public var journalCapacity = CallRecorder.defaultCapacity
        /// How many finished runs the emulator verify starts keeps (`--max-finished-runs`).
        public var finishedRunCapacity = RunStore.defaultFinishedRunCapacity

        /// Options for these scenarios.
        public init(scenarios: [Scenario]) { self.scenarios = scenarios }
    }

    /// How `verify` connects the consumer under test to Kafka.
    public enum KafkaSecurityMode: String, Sendable, CaseIterable {
        /// The plaintext listeners (the default bootstrap).
        case plaintext
        /// Port's production settings only: SASL_SSL with SCRAM-SHA-512 and the CA.
        case saslSSL = "sasl_ssl"
    }

    struct State {
        var events: [String] = []
        var readyAt: ContinuousClock.Instant?
        var readiness = ""
        /// Crashes already blamed on a scenario.
        var crashesReported = 0
        /// The function's invocations (`--lambda`).
        var lambdaLog: LambdaInvocationLog?
        /// When the last scenario's evidence was gathered: violations naming no run that
        /// came after it belong to the next scenario (the first takes those since verify
        /// started, the consumer's start-up included).
        var judgedUntil = Date()
    }

    let options: Options
    let logger: Logger
    let progress: @Sendable (String) -> Void
    let state = Mutex(State())
    let started = ContinuousClock.now

    /// A verifier; `progress` receives one line per scenario as it finishes, and a line for
    /// each long wait and consumer event.
    public init(options: Options, logger: Logger, progress: @escaping @Sendable (String) -> Void) {
        self.options = options
        self.logger = logger
        self.progress = progress
    }

    /// Runs everything and returns the report; throws only when the emulator cannot start.
    public func run() async throws -> VerifyReport {
        var report = VerifyReport()
        report.chaos = options.chaos?.name
        if let against = options.against {
            report.consumer = "the consumer of the emulator at \(against)"
            let client = try EmulatorClient(url: against).asTester
            _ = try await client.send("GET", "/_emulator/health")
            state.withLock {
                $0.readyAt = .now
                $0.readiness = "consumer already running (--against \(against))"
            }
            report.results = await runScenarios(client: client, consumer: nil, group: nil, info: nil)
        } else {
            report = try await runWithOwnEmulator(report)
        }
        report.duration = ContinuousClock.now - started
        state.withLock { state in
            report.events = state.events
            report.readiness = state.readiness
        }
        return report
    }

    func runWithOwnEmulator(_ initial: VerifyReport) async throws -> VerifyReport {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.orgID = options.orgID
        configuration.fixtures = options.fixtures
        configuration.journalCapacity = options.journalCapacity
        configuration.finishedRunCapacity = options.finishedRunCapacity
        if var lambda = options.lambda {
            lambda.command = options.consumerCommand
            lambda.logPath = options.consumerLogPath
            lambda.environment = options.environment.merging(lambda.environment) { $1 }
            configuration.lambda = lambda
            try? FileManager.default.removeItem(atPath: options.consumerLogPath)
        }
        return try await PortEmulator.withRunning(configuration: configuration, logger: logger) { emulator in
            if self.options.lambda != nil { return try await self.verifyLambda(emulator, report: initial) }
            return try await self.verify(against: emulator.info, report: initial)
        }
    }

    /// Starts the consumer against the emulator of `info`, runs the scenarios and stops it.
    private func verify(against info: EmulatorInfo, report initial: VerifyReport) async throws -> VerifyReport {
        var report = initial
        let consumer = ConsumerProcess(
            command: options.consumerCommand,
            environment: Self.consumerEnvironment(info, security: options.kafkaSecurity, polling: options.polling)
                .merging(options.environment) { $1 },
            logPath: options.consumerLogPath
        )
        report.consumer = options.consumerCommand.joined(separator: " ")
        report.consumerLog = options.consumerLogPath
        try? FileManager.default.removeItem(atPath: options.consumerLogPath)
        try consumer.start()
        let client = try EmulatorClient(url: info.apiBaseURL).asTester
        note("consumer started: \(report.consumer) (its output: \(options.consumerLogPath))")
        if let failure = await waitForReadyLine(consumer) {
            report.results = options.scenarios.map { notRun($0, because: failure) }
        } else {
            report.results = await runScenarios(
                client: client,
                consumer: consumer,
                group: info.consumerGroupID,
                info: info
            )
        }
        let stopping = ContinuousClock.now
        await consumer.stop(grace: .seconds(10))
        note(
            "consumer stopped (\(consumer.exits.last?.description ?? "not running")) in \(VerifyReport.seconds(ContinuousClock.now - stopping))"
        )
        return report
    }

    /// The consumer's environment: the emulator's settings (`EmulatorInfo.environment`:
    /// under the names port-consumer reads, and under port-agent's).
    ///
    /// With `.saslSSL` the consumer gets only what a Port customer has: `KAFKA_BROKERS` is
    /// the SASL_SSL listeners, `KAFKA_SECURITY_PROTOCOL=SASL_SSL` with the SCRAM user and
    /// the CA; no plaintext address is left in it, and port-agent is in its production mode
    /// (`USING_LOCAL_PORT_INSTANCE=False`: it asks `GET /v1/kafka-credentials`), with
    /// `SSL_CERT_FILE` naming the CA for clients that read only the system's trust store.
    public static func consumerEnvironment(
        _ info: EmulatorInfo,
        security: KafkaSecurityMode = .plaintext,
        polling: Bool = false
    ) -> [String: String] {
        var environment = Dictionary(info.environment, uniquingKeysWith: { $1 })
        if polling { environment["STREAMER_NAME"] = "POLLING" }
        if security == .saslSSL, let brokers = info.kafkaSASLSSLBootstrapServers, let ca = info.kafkaCALocation {
            environment["KAFKA_BROKERS"] = brokers
            environment["KAFKA_SECURITY_PROTOCOL"] = "SASL_SSL"
            environment["KAFKA_CONSUMER_SECURITY_PROTOCOL"] = "SASL_SSL"
            environment["KAFKA_CONSUMER_AUTHENTICATION_MECHANISM"] = info.kafkaSASLMechanism ?? "SCRAM-SHA-512"
            environment["USING_LOCAL_PORT_INSTANCE"] = "False"
            environment["SSL_CERT_FILE"] = ca
            for key in ["KAFKA_SASL_SSL_BROKERS", "KAFKA_CONSUMER_BOOTSTRAP_SERVERS", "KAFKA_CONSUMER_BROKERS"] {
                environment[key] = nil
            }
        }
        return environment
    }

    func runScenarios(
        client: EmulatorClient,
        consumer: ConsumerProcess?,
        group: String?,
        info: EmulatorInfo?
    ) async -> [ScenarioResult] {
        let session = TesterSession(client: client)
        // The chaos profile's events run beside the scenarios, as a child task ended with them.
        return await withTaskGroup(of: Void.self) { chaos in
            if let profile = options.chaos {
                chaos.addTask { await self.runChaos(profile, client: client, consumer: consumer) }
            }
            let results = await runScenarios(session: session, consumer: consumer, group: group, info: info)
            if options.chaos != nil {
                chaos.cancelAll()
                await chaos.waitForAll()
                _ = try? await client.send("DELETE", "/_emulator/faults")
            }
            return results
        }
    }

    /// Runs the scenarios one after another, restarting a consumer that crashed.
    private func runScenarios(
        session: TesterSession,
        consumer: ConsumerProcess?,
        group: String?,
        info: EmulatorInfo?
    ) async -> [ScenarioResult] {
        var results: [ScenarioResult] = []
        var abandon: String?
        if options.polling {
            abandon = await switchToPolling(session)
            if abandon == nil {
                note("the organization now gets its work by HTTP polling (portAgentStreamerName POLLING)")
            }
        }
        for scenario in options.scenarios {
            if let abandon {
                results.append(notRun(scenario, because: abandon))
                continue
            }
            var result = await run(scenario, session: session, consumer: consumer, group: group, info: info)
            result.invocations = lambdaInvocations(for: result.runIDs)
            results.append(result)
            progress(
                "\(result.passed ? "PASS" : "FAIL")  \(result.name)  (\(result.got), \(VerifyReport.seconds(result.duration)))"
                    + (result.passed ? "" : "\n      " + result.failures.joined(separator: "\n      "))
            )
            if let consumer, !consumer.isRunning {
                abandon = await restartAfterCrash(consumer)
            }
            if abandon == nil, !isReady, result.runIDs.count > 0,
                ContinuousClock.now >= started + options.startupTimeout
            {
                abandon =
                    "the consumer never called Port's API within the \(DurationText.format(options.startupTimeout)) start-up allowance"
            }
        }
        return results
    }

    /// Starts a consumer again after it ended on its own (and, with a ready pattern, waits
    /// until it prints it again); returns why verification must stop, if it must.
    func restartAfterCrash(_ consumer: ConsumerProcess) async -> String? {
        guard let exit = consumer.exits.last else { return nil }
        let crashes = consumer.exits.filter { !$0.intended }.count
        guard crashes <= options.maxRestarts else {
            return "the consumer crashed \(crashes) times (last: \(exit))"
        }
        note("consumer ended (\(exit)); starting it again")
        let offset = consumer.logSize
        do {
            try consumer.start()
        } catch {
            return error.message
        }
        guard options.readyPattern != nil else { return nil }
        return await waitForReadyLine(consumer, from: offset)
    }

    func tail(_ consumer: ConsumerProcess) -> String {
        let lines = consumer.logTail(5)
        return lines.isEmpty ? "(it printed nothing)" : lines.joined(separator: " | ")
    }

    func note(_ event: String) {
        let stamped = "+\(VerifyReport.seconds(ContinuousClock.now - started)) \(event)"
        state.withLock { $0.events.append(stamped) }
        progress("· \(event)")
    }
}
