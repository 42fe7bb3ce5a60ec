import HTTPServer
import KafkaBroker
public import Logging
import PortContract
import PortKafka
public import ServiceLifecycle
import StateLog
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Where a running emulator can be reached; served at `GET /_emulator/info`.
public struct EmulatorInfo: Codable, Sendable, Equatable {
    /// Port's API base URL, with `/v1`.
    public var apiURL: String
    /// The API's base URL without `/v1`, as port-agent's `PORT_API_BASE_URL` wants it.
    public var apiBaseURL: String
    /// `host:port` list of the Kafka brokers.
    public var kafkaBootstrapServers: String
    /// `embedded` for the in-process cluster, `external` for `--kafka-bootstrap`.
    public var kafka: String
    /// The organization id.
    public var orgID: String
    /// The invocations topic.
    public var runsTopic: String
    /// The change-log topic.
    public var changeLogTopic: String
    /// Partitions of each topic.
    public var partitions: Int
    /// The client id consumers authenticate with.
    public var clientID: String
    /// The client secret consumers authenticate with (a test credential, printed on purpose).
    public var clientSecret: String
    /// The embedded Kafka's SASL_SSL listeners (SCRAM-SHA-512, as Port's brokers), `host:port`
    /// comma-separated; nil with an external Kafka.
    public var kafkaSASLSSLBootstrapServers: String?
    /// The customer's Kafka username on the SASL_SSL listeners.
    public var kafkaUsername: String?
    /// Its password (a test credential, printed on purpose).
    public var kafkaPassword: String?
    /// The SASL mechanism of the SASL_SSL listeners: `SCRAM-SHA-512`.
    public var kafkaSASLMechanism: String?
    /// The PEM file of the CA that signed the SASL_SSL listeners' certificate.
    public var kafkaCALocation: String?
    /// Whether Port's Kafka ACLs are enforced on the embedded Kafka.
    public var kafkaACLs: Bool?

    /// The line printed once the emulator is ready.
    public var readyLine: String {
        var line =
            "port-emulator ready: api=\(apiURL) kafka=\(kafkaBootstrapServers) org=\(orgID) "
            + "topics=\(runsTopic),\(changeLogTopic) partitions=\(partitions) "
            + "client_id=\(clientID) client_secret=\(clientSecret)"
        if let kafkaSASLSSLBootstrapServers, let kafkaUsername, let kafkaPassword, let kafkaCALocation {
            line +=
                " kafka_sasl_ssl=\(kafkaSASLSSLBootstrapServers) kafka_user=\(kafkaUsername) "
                + "kafka_password=\(kafkaPassword) kafka_ca=\(kafkaCALocation)"
        }
        return line
    }
}

/// One emulator process's parts: the embedded Kafka cluster with the org's topics, Port's
/// API over the RunStore (auth and action runs), and the admin API under `/_emulator/`.
public final class PortEmulator: Service, Sendable {
    /// Where the emulator can be reached.
    public let info: EmulatorInfo
    /// The runs, their logs and the state machine.
    public let runs: RunStore
    /// The journal of API calls and the refused requests.
    public let recorder: CallRecorder
    /// The blueprints and actions.
    public let catalog: Catalog
    /// Publishes invocations and change-log messages.
    package let publisher: InvocationPublisher
    /// Workflow runs and their node runs.
    package let workflowRuns: WorkflowRuns
    /// The automations' evaluation, and the clock their timers expire on.
    package let automations: AutomationEngine
    /// The faults injected: their restore timers touch the Kafka cluster, so a shutdown ends
    /// them before it stops the cluster.
    package let faults: FaultInjector
    /// The Lambda function (`--lambda`), if any.
    package let lambda: LambdaHost?
    /// `--state-dir`'s keeper, when the state is kept.
    package let state: StateKeeper?
    private let kafka: EmulatorKafka
    private let server: HTTPServer
    /// The emulator's parts as services; a graceful shutdown stops them in reverse order:
    /// HTTP, automation timers, fault timers, publisher, Kafka.
    private let parts: ServiceGroup

    /// The embedded broker's internal listeners (no ACLs, never advertised): for the
    /// package's tests and benchmarks that put messages on a topic as Port would. Nil with
    /// an external Kafka.
    package var internalKafkaBootstrapServers: String? { kafka.front?.internalBootstrap }

    /// Creates a topic on the embedded broker (tests: another organization's topic); nothing
    /// with an external Kafka.
    package func createKafkaTopic(_ name: String, partitions: Int) {
        kafka.front?.broker.createTopic(name, partitions: Int32(partitions))
    }

    private init(
        info: EmulatorInfo,
        runs: RunStore,
        recorder: CallRecorder,
        catalog: Catalog,
        publisher: InvocationPublisher,
        workflowRuns: WorkflowRuns,
        automations: AutomationEngine,
        faults: FaultInjector,
        kafka: EmulatorKafka,
        server: HTTPServer,
        lambda: LambdaHost?,
        lambdaWork: [@Sendable () async -> Void],
        state: StateKeeper?,
        logger: Logger
    ) {
        self.lambda = lambda
        self.state = state
        self.info = info
        self.runs = runs
        self.recorder = recorder
        self.catalog = catalog
        self.publisher = publisher
        self.workflowRuns = workflowRuns
        self.automations = automations
        self.faults = faults
        self.kafka = kafka
        self.server = server
        // The state's keeper is first, so that it stops last: after the last answer, it
        // writes and syncs what is left.
        let stateParts: [any Service] =
            state.map { state in [ClosureService { await state.run() }] } ?? []
        let parts: [any Service] =
            stateParts + [
                ClosureService { await kafka.run() },
                ClosureService { await publisher.run() },
                ClosureService { await faults.run() },
                ClosureService {
                    // Timer properties are checked once a second of real time (the clock's moves check at once).
                    try? await cancelWhenGracefulShutdown {
                        while true {
                            automations.checkTimers()
                            try await Task.sleep(for: .seconds(1))
                        }
                    }
                },
                ClosureService { [runs] in
                    try await withGracefulShutdownHandler {
                        try await server.run()
                    } onGracefulShutdown: {
                        runs.endWaits()  // long polls answer now, not at their deadline
                    }
                },
            ]
        // The Lambda function's parts stop first (a shutdown goes in reverse): the mapping
        // stops invoking while Port's API still answers the function.
        let lambdaParts: [any Service] = lambdaWork.map { work in
            ClosureService { await cancelWhenGracefulShutdown { await work() } }
        }
        self.parts = ServiceGroup(services: parts + lambdaParts, logger: logger)
    }

    /// Starts an emulator, runs `body` with it, and stops it whichever way `body` ends: the
    /// scoped way to use an emulator in a test or a tool.
    ///
    /// The emulator's parts run in a child task beside `body`. When `body` returns or
    /// throws, the emulator shuts down gracefully and this returns (or rethrows) once it has
    /// stopped. If a part of the emulator fails while `body` runs, `body` is cancelled and
    /// the part's error is thrown: nobody keeps using a dead emulator.
    ///
    /// ```swift
    /// let status = try await PortEmulator.withRunning(configuration: configuration) { emulator in
    ///     let client = try EmulatorClient(url: emulator.info.apiBaseURL)
    ///     let run = try await client.trigger(action: "create_vm", inputs: ["name": "vm-1"])
    ///     return try await emulator.runs.wait(for: run["id"]!.stringValue!, timeout: .seconds(30)) {
    ///         $0.isLocked
    ///     }.run.status
    /// }
    /// ```
    public static func withRunning<Value: Sendable>(
        configuration: EmulatorConfiguration,
        logger: Logger = Logger(label: "port-emulator"),
        _ body: @escaping @Sendable (PortEmulator) async throws -> Value
    ) async throws -> Value {
        let emulator = try await make(configuration: configuration, logger: logger)
        let outcome: Result<Value, any Error> = await withTaskGroup(of: ScopedOutcome<Value>.self) { group in
            group.addTask {
                do {
                    try await emulator.parts.run()
                    return .partsEnded(nil)
                } catch {
                    return .partsEnded(error)
                }
            }
            group.addTask {
                do {
                    return .bodyEnded(.success(try await body(emulator)))
                } catch {
                    return .bodyEnded(.failure(error))
                }
            }
            switch await group.next() {
            case .bodyEnded(let result):
                await emulator.shutDown()
                // body's error first, then a part's failure in shutting down.
                if case .failure = result { return result }
                if let partsError = await group.next()?.partsError { return .failure(partsError) }
                return result
            case .partsEnded(let error):
                // A part failed (or a signal shut the process's services down) while `body`
                // was still using the emulator: `body` is cancelled, the part's error thrown.
                group.cancelAll()
                _ = await group.next()
                return .failure(error ?? EmulatorError(message: "the emulator was shut down while it was in use"))
            case nil:
                return .failure(EmulatorError(message: "the emulator ended without running"))
            }
        }
        return try outcome.get()
    }

    /// Runs the emulator's parts until a graceful shutdown, then stops them: a
    /// `PortEmulator` from ``make(configuration:logger:)`` is a `Service` for a caller's own
    /// `ServiceGroup`. Run it once.
    public func run() async throws {
        // A service group run inside another's service shuts down with its parent.
        try await parts.run()
    }

    /// Starts the embedded Kafka (or connects to the external one), makes sure the org's
    /// topics exist, and binds the HTTP server; `run()` then serves, in a `ServiceGroup` of
    /// the caller's. ``withRunning(configuration:logger:_:)`` does both in one scope, and is
    /// what a test or a tool wants.
    public static func make(
        configuration: EmulatorConfiguration,
        logger: Logger
    ) async throws -> PortEmulator {
        let problems = configuration.problems()
        guard problems.isEmpty else { throw EmulatorError(message: problems.joined(separator: "; ")) }

        // The state is opened first: a state this build must not read is refused before
        // anything starts.
        var opened: (StateKeeper, StateLoad)?
        if let directory = configuration.stateDirectory {
            do throws(StateError) {
                opened = try StateKeeper.open(
                    directory,
                    orgID: configuration.orgID,
                    sync: configuration.stateSync,
                    compactionBytes: configuration.stateCompactionBytes,
                    logger: logger
                )
            } catch {
                throw EmulatorError(message: "--state-dir: \(error)")
            }
        }
        let keeper = opened?.0
        let stateLog = keeper?.log
        let recorder = CallRecorder(capacity: configuration.journalCapacity, stateLog: stateLog)
        // Kafka starts (its certificate, listeners and topics) on another core while the
        // catalog is built (its jq compile is the longest step of a start with fixtures).
        async let startedKafka = EmulatorKafka.start(configuration, recorder: recorder, logger: logger)
        let catalog: Catalog
        let directory: Directory
        let runs = RunStore(finishedRunCapacity: configuration.finishedRunCapacity, stateLog: stateLog)
        let organization = OrganizationStore(orgID: configuration.orgID, stateLog: stateLog)
        let secrets = SecretStore(configuration.secrets, stateLog: stateLog)
        let clock = EmulatorClock(stateLog: stateLog)
        let tokens = TokenStore(
            credentials: [
                configuration.clientID: configuration.clientSecret,
                EmulatorConfiguration.testerClientID: EmulatorConfiguration.testerClientSecret,
            ],
            ttl: configuration.tokenTTL,
            orgID: configuration.orgID,
            stateLog: stateLog
        )
        do {
            do {
                catalog = try Catalog(fixtures: configuration.fixtures, stateLog: stateLog)
                directory = try Directory(
                    teams: configuration.fixtures.teams,
                    users: configuration.fixtures.users,
                    stateLog: stateLog
                )
            } catch {
                throw EmulatorError(message: "fixtures: \(error.message)")
            }
            do {
                try runs.seed(configuration.fixtures.entities, models: catalog.models, teams: directory.teamNames)
            } catch {
                throw EmulatorError(message: "fixtures: \(error)")
            }
            if let keeper, let load = opened?.1 {
                let stores = StateKeeper.Stores(
                    runs: runs,
                    catalog: catalog,
                    recorder: recorder,
                    organization: organization,
                    secrets: secrets,
                    clock: clock,
                    directory: directory,
                    tokens: tokens
                )
                do throws(StateError) {
                    try keeper.restore(load, into: stores)
                } catch {
                    throw EmulatorError(message: "--state-dir: \(error)")
                }
            }
        } catch {
            // The fixtures are refused: a Kafka already up is stopped before the error is told.
            if let kafka = try? await startedKafka { await kafka.shutdownNow() }
            throw error
        }
        let audit = AuditLog()
        let kafka = try await startedKafka
        let infoBox = InfoBox()
        let publisher = InvocationPublisher(
            producer: kafka.producer,
            runs: runs,
            catalog: catalog,
            settings: InvocationPublisher.Settings(
                orgID: configuration.orgID,
                runsTopic: configuration.runsTopic,
                changeLogTopic: configuration.changeLogTopic,
                clientSecret: configuration.clientSecret,
                secrets: secrets,
                stateLog: stateLog
            ),
            deliversByPolling: { organization.setting("portAgentStreamerName") == "POLLING" },
            logger: logger
        )
        let automations = AutomationEngine(
            catalog: catalog,
            runs: runs,
            publisher: publisher,
            recorder: recorder,
            clock: clock,
            orgID: configuration.orgID,
            stateLog: stateLog
        )
        keeper?.attach(automations)
        if keeper != nil {
            // Runs whose creation was answered but whose invocation never went out are
            // invoked now (at least once). Runs delivered before the restart are not: the
            // embedded Kafka starts empty (docs/configuration.md, "State").
            for run in runs.runs where run.status == .inProgress && run.delivery == nil {
                publisher.schedule(runID: run.id)
            }
        }
        runs.observeRuns { [orgID = configuration.orgID] before, after in
            audit.recordRun(before: before, after: after, orgID: orgID)
            automations.runChanged(before: before, after: after)
        }
        var router = PortRouter()
        let lambda = configuration.lambda.map { LambdaHost(settings: $0, logger: logger) }
        lambda?.register(on: &router)
        let workflows = WorkflowRuns()
        let faults = FaultInjector(tokens: tokens, recorder: recorder, kafka: kafka.front)
        let pipeline = PortPipeline(
            tokens: tokens,
            recorder: recorder,
            faults: faults,
            audit: audit,
            orgID: configuration.orgID,
            state: keeper
        )
        let api = PortAPI(
            runs: runs,
            workflows: workflows,
            catalog: catalog,
            tokens: tokens,
            recorder: recorder,
            pipeline: pipeline,
            info: infoBox,
            publisher: publisher,
            faults: faults,
            secrets: secrets,
            clientSecret: configuration.clientSecret,
            automations: automations,
            organization: organization,
            integrations: IntegrationStore(),
            directory: directory,
            audit: audit,
            latency: configuration.apiLatency,
            kafkaCredentials: configuration.kafkaCredentials
        )
        api.register(on: &router)
        api.registerAdminRoutes(on: &router)
        api.registerDashboard(on: &router)
        let served = router.routeList
        router.addImmediate(.get, "/_emulator/routes") { _ in
            ok(["routes": .array(served.map { ["method": .string($0.method), "path": .string($0.pattern)] })])
        }

        var serverConfiguration = HTTPServer.Configuration()
        serverConfiguration.host = configuration.host
        serverConfiguration.port = configuration.port
        let server: HTTPServer
        do {
            server = try HTTPServer.start(
                configuration: serverConfiguration,
                router: router,
                middlewares: pipeline.server,
                logger: logger
            )
        } catch {
            await kafka.shutdownNow()
            guard let error = error as? HTTPServerError else { throw error }
            throw EmulatorError(
                message: "\(error.message) (is another emulator running? choose another port, or port 0 for a free one)"
            )
        }
        let base = server.baseURL
        var info = EmulatorInfo(
            apiURL: base + "/v1",
            apiBaseURL: base,
            kafkaBootstrapServers: kafka.bootstrapServers,
            kafka: kafka.kind,
            orgID: configuration.orgID,
            runsTopic: configuration.runsTopic,
            changeLogTopic: configuration.changeLogTopic,
            partitions: configuration.partitions,
            clientID: configuration.clientID,
            clientSecret: configuration.clientSecret
        )
        if let front = kafka.front {
            info.kafkaSASLSSLBootstrapServers = front.saslSSLBootstrap
            info.kafkaUsername = configuration.kafkaUsername
            info.kafkaPassword = configuration.kafkaFront.password
            info.kafkaSASLMechanism = "SCRAM-SHA-512"
            info.kafkaCALocation = front.caFile
            info.kafkaACLs = configuration.kafkaFront.acls
        }
        infoBox.set(info)
        let lambdaWork: [@Sendable () async -> Void]
        do {
            lambdaWork = try lambda?.start(info: info) ?? []
        } catch {
            await server.stop(gracePeriod: .zero)
            await kafka.shutdownNow()
            throw error
        }
        return PortEmulator(
            info: info,
            runs: runs,
            recorder: recorder,
            catalog: catalog,
            publisher: publisher,
            workflowRuns: workflows,
            automations: automations,
            faults: faults,
            kafka: kafka,
            server: server,
            lambda: lambda,
            lambdaWork: lambdaWork,
            state: keeper,
            logger: logger
        )
    }

    /// Ends long polls and asks the parts to shut down gracefully: HTTP first (letting
    /// requests in progress finish), then the timers, the publisher (once what it was given
    /// is out) and Kafka.
    private func shutDown() async {
        runs.endWaits()
        await parts.triggerGracefulShutdown()
    }
}

/// How the scoped emulator of `withRunning` ended: its parts, or the caller's body first.
private enum ScopedOutcome<Value: Sendable>: Sendable {
    case partsEnded((any Error)?)
    case bodyEnded(Result<Value, any Error>)

    var partsError: (any Error)? {
        if case .partsEnded(let error) = self { return error }
        return nil
    }
}

/// Runs a `PortEmulator` under swift-service-lifecycle until a graceful shutdown (SIGINT/SIGTERM).
public struct EmulatorService: Service {
    private let configuration: EmulatorConfiguration
    private let envFile: String?
    private let logger: Logger
    private let onReady: @Sendable (EmulatorInfo) -> Void

    /// Creates the service; once the API and Kafka accept connections it writes `envFile`
    /// (when given) and calls `onReady`.
    public init(
        configuration: EmulatorConfiguration,
        envFile: String? = nil,
        logger: Logger,
        onReady: @escaping @Sendable (EmulatorInfo) -> Void
    ) {
        self.configuration = configuration
        self.envFile = envFile
        self.logger = logger
        self.onReady = onReady
    }

    /// Starts the emulator, waits for a graceful shutdown, then stops it.
    public func run() async throws {
        if let envFile { try EnvFile.removeStale(at: envFile) }
        try await PortEmulator.withRunning(configuration: configuration, logger: logger) {
            [envFile, onReady, logger] emulator in
            if let envFile { try EnvFile.write(emulator.info, to: envFile) }
            onReady(emulator.info)
            try? await gracefulShutdown()
            logger.info("shutting down")
            if let envFile { try? EnvFile.removeStale(at: envFile) }
        }
    }
}

/// Why the emulator could not start.
public struct EmulatorError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, in one line.
    public let message: String
    /// The message.
    public var description: String { message }
}

extension EmulatorService: CustomStringConvertible {
    /// `EmulatorService`: the name swift-service-lifecycle logs. It describes each service
    /// as the group is made, and a struct's default description reflects every stored
    /// property, the fixtures' JSON included: a tenth of start-up.
    public var description: String { "EmulatorService" }
}
