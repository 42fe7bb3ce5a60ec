import Foundation
import Kafka
import Logging
import PortContract
import Synchronization

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

    private struct State {
        var events: [String] = []
        var readyAt: ContinuousClock.Instant?
        var readiness = ""
        /// Crashes already blamed on a scenario.
        var crashesReported = 0
    }

    private let options: Options
    private let logger: Logger
    private let progress: @Sendable (String) -> Void
    private let state = Mutex(State())
    private let started = ContinuousClock.now

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

    private func runWithOwnEmulator(_ initial: VerifyReport) async throws -> VerifyReport {
        var report = initial
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.orgID = options.orgID
        configuration.fixtures = options.fixtures
        let emulator = try await PortEmulator.start(configuration: configuration, logger: logger)
        let info = emulator.info
        let consumer = ConsumerProcess(
            command: options.consumerCommand,
            environment: Self.consumerEnvironment(info, security: options.kafkaSecurity, polling: options.polling)
                .merging(options.environment) { $1 },
            logPath: options.consumerLogPath
        )
        report.consumer = options.consumerCommand.joined(separator: " ")
        report.consumerLog = options.consumerLogPath
        try? FileManager.default.removeItem(atPath: options.consumerLogPath)
        do {
            try consumer.start()
        } catch {
            await emulator.stop()
            throw error
        }
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
        await emulator.stop()
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

    // MARK: - Readiness

    /// With a ready pattern: waits for it in the consumer's output. Returns why the consumer
    /// is not ready, or nil.
    private func waitForReadyLine(_ consumer: ConsumerProcess, from offset: Int = 0) async -> String? {
        guard let pattern = options.readyPattern else {
            state.withLock { $0.readiness = "ready at its first call to Port's API (no --ready-log given)" }
            return nil
        }
        guard let expression = try? NSRegularExpression(pattern: pattern) else {
            return "--ready-log \(pattern) is not a valid regular expression"
        }
        let deadline = ContinuousClock.now + options.startupTimeout
        var lastNotice = ContinuousClock.now
        while ContinuousClock.now < deadline {
            let log = consumer.log(from: offset)
            if expression.firstMatch(in: log, range: NSRange(log.startIndex..., in: log)) != nil {
                let after = ContinuousClock.now - started
                state.withLock {
                    $0.readyAt = .now
                    $0.readiness = "ready after \(VerifyReport.seconds(after)): its output matched /\(pattern)/"
                }
                note("consumer ready \(offset > 0 ? "again" : "") after \(VerifyReport.seconds(after))")
                return nil
            }
            if !consumer.isRunning {
                return "the consumer exited before it was ready (\(consumer.exits.last?.description ?? "unknown")): "
                    + tail(consumer)
            }
            if ContinuousClock.now - lastNotice > .seconds(5) {
                lastNotice = .now
                progress("… waiting for the consumer to print /\(pattern)/")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return "the consumer never printed /\(pattern)/ within \(DurationText.format(options.startupTimeout)): "
            + tail(consumer)
    }

    private var isReady: Bool { state.withLock { $0.readyAt != nil } }

    /// Notes the consumer ready when it has called Port's API (without a ready pattern).
    private func checkFirstCall(_ journal: [JournalLine]) {
        guard !isReady, let first = journal.first(where: \.isConsumerCall) else { return }
        let after = first.time.timeIntervalSince(Date()) + (ContinuousClock.now - started).seconds
        state.withLock {
            $0.readyAt = .now
            $0.readiness = String(format: "ready after %.2fs: its first call to Port's API", after)
        }
        note(String(format: "consumer ready: first call to Port's API after %.2fs", after))
    }

    // MARK: - Scenarios

    private func runScenarios(
        client: EmulatorClient,
        consumer: ConsumerProcess?,
        group: String?,
        info: EmulatorInfo?
    ) async -> [ScenarioResult] {
        let session = TesterSession(client: client)
        let chaos = options.chaos.map { profile in
            Task { await self.runChaos(profile, client: client, consumer: consumer) }
        }
        defer { chaos?.cancel() }
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
            let result = await run(scenario, session: session, consumer: consumer, group: group, info: info)
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
        if let chaos {
            chaos.cancel()
            _ = await chaos.value
            _ = try? await client.send("DELETE", "/_emulator/faults")
        }
        return results
    }

    /// Starts a consumer again after it ended on its own (and, with a ready pattern, waits
    /// until it prints it again); returns why verification must stop, if it must.
    private func restartAfterCrash(_ consumer: ConsumerProcess) async -> String? {
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

    private func run(
        _ scenario: Scenario,
        session: TesterSession,
        consumer: ConsumerProcess?,
        group: String?,
        info: EmulatorInfo?
    ) async -> ScenarioResult {
        let begin = ContinuousClock.now
        let beginDate = Date()
        var result = ScenarioResult(
            name: scenario.name,
            description: scenario.description,
            expected: Self.expected(scenario),
            got: "",
            duration: .zero
        )
        let tag = "scenario-\(scenario.name)"
        do {
            try await prepare(scenario, session: session, tag: tag)
            let trigger = try await triggerRuns(scenario, session: session)
            result.runIDs = trigger.runIDs
            if let refusal = trigger.refusal {
                result.got = "refused \(refusal.status) \(refusal.error)"
                result.failures += checkRefusal(scenario, status: refusal.status, error: refusal.error)
            } else if scenario.expect.refusedStatus != nil {
                result.got = "accepted"
                result.failures.append(
                    "Port should have refused the trigger with \(scenario.expect.refusedStatus!), but accepted it"
                )
            } else {
                var approvedAt: [String: Date] = [:]
                if let approve = scenario.approve {
                    let (failures, times) = try await decide(trigger.runIDs, approve: approve, session: session)
                    result.failures += failures
                    approvedAt = times
                }
                let waitBegan = ContinuousClock.now
                try await waitForRuns(
                    trigger.runIDs,
                    within: scenario.expect.within,
                    idle: scenario.expect.idle,
                    session: session,
                    consumer: consumer
                )
                if options.settle > .zero { try? await Task.sleep(for: options.settle) }
                let evidence = try await gather(session: session)
                checkFirstCall(evidence.journal)
                let (failures, statistics) = await judge(
                    scenario,
                    waited: ContinuousClock.now - waitBegan,
                    triggeredAt: beginDate,
                    runIDs: trigger.runIDs,
                    evidence: evidence,
                    approvedAt: approvedAt,
                    group: group,
                    info: info
                )
                result.failures += failures
                result.statistics = statistics
                result.got = Self.got(trigger.runIDs, evidence: evidence)
                let scenarioRuns = Set(trigger.runIDs)
                result.violations = evidence.violations.filter { violation in
                    violation.runID.map(scenarioRuns.contains) ?? (violation.time >= beginDate)
                }.map(\.text)
                for violation in evidence.violations where violation.runID.map(scenarioRuns.contains) ?? false {
                    result.statistics.violationsByRule[violation.rule, default: 0] += 1
                }
                if result.violations.count > scenario.expect.maxViolations {
                    result.failures += result.violations.prefix(3).map { "contract violation: \($0)" }
                    if result.violations.count > 3 {
                        result.failures.append("… and \(result.violations.count - 3) more violation(s)")
                    }
                }
            }
        } catch {
            result.failures.append("verify could not drive the scenario: \(error)")
            if result.got.isEmpty { result.got = "error" }
        }
        if !scenario.faults.isEmpty {
            _ = try? await session.client.send("DELETE", "/_emulator/faults?tag=\(EmulatorClient.escape(tag))")
        }
        if let consumer {
            // A crash since the last scenario's verdict is this scenario's, even when it came
            // before its trigger (a restarted consumer that dies at once).
            let crashes = consumer.exits.filter { !$0.intended }
            let reported = state.withLock { state in
                defer { state.crashesReported = crashes.count }
                return state.crashesReported
            }
            if crashes.count > reported, let crash = crashes.last {
                result.failures.append(
                    "the consumer crashed during this scenario (\(crash)); its last output: \(tail(consumer))"
                )
            }
        }
        result.duration = ContinuousClock.now - begin
        return result
    }

    private func prepare(_ scenario: Scenario, session: TesterSession, tag: String) async throws {
        for entity in scenario.setup {
            let body: JSONValue = [
                "identifier": .string(entity.identifier), "properties": .object(entity.properties),
            ]
            let answer = try await session.authorized(
                "POST",
                "/v1/blueprints/\(EmulatorClient.escape(entity.blueprint))/entities?upsert=true",
                body: body
            )
            guard (200..<300).contains(answer.status) else {
                throw ScenarioError(
                    message: "setting up entity \(entity.blueprint)/\(entity.identifier) failed: "
                        + "\(answer.status) \(answer.json?["message"]?.stringValue ?? "")"
                )
            }
        }
        for fault in scenario.faults {
            var tagged = fault.objectValue ?? [:]
            tagged["tag"] = .string(tag)
            _ = try await session.client.send("POST", "/_emulator/faults", body: .object(tagged))
        }
    }

    private struct Triggered {
        var runIDs: [String] = []
        /// Port's refusal of the trigger: its status and error code.
        var refusal: (status: Int, error: String)?
    }

    private func triggerRuns(_ scenario: Scenario, session: TesterSession) async throws -> Triggered {
        var triggered = Triggered()
        for _ in 0..<scenario.count {
            let answer: (status: Int, json: JSONValue?)
            switch scenario.trigger {
            case .action(let action, let inputs, let entity, let user):
                var body: JSONObject = ["properties": .object(inputs)]
                body["entity"] = entity.map(JSONValue.string)
                var path = "/v1/actions/\(EmulatorClient.escape(action))/runs"
                if let user { path += "?run_as=\(EmulatorClient.escape(user))" }
                answer = try await session.authorized("POST", path, body: .object(body))
            case .invocation(let name):
                answer = try await session.client.call("POST", "/_emulator/invocations/\(EmulatorClient.escape(name))")
            case .unknownAction(let action, let inputs):
                answer = try await session.client.call(
                    "POST",
                    "/_emulator/runs",
                    body: ["action": .string(action), "properties": .object(inputs)]
                )
            case .automation(let automation, let cause):
                answer = try await triggerAutomation(
                    automation,
                    cause: cause,
                    within: scenario.expect.within,
                    session: session
                )
            }
            guard (200..<300).contains(answer.status), let id = answer.json?["run"]?["id"]?.stringValue else {
                let code = answer.json?["error"]?.stringValue ?? "http_\(answer.status)"
                triggered.refusal = (answer.status, code)
                if scenario.expect.refusedStatus == nil {
                    throw ScenarioError(
                        message: "Port refused the trigger: \(answer.status) \(code): "
                            + (answer.json?["message"]?.stringValue ?? "")
                    )
                }
                return triggered
            }
            triggered.runIDs.append(id)
        }
        return triggered
    }

    private func checkRefusal(_ scenario: Scenario, status: Int, error: String) -> [String] {
        var failures: [String] = []
        if let expected = scenario.expect.refusedStatus, status != expected {
            failures.append("Port should have refused the trigger with \(expected), but answered \(status)")
        }
        if let expected = scenario.expect.refusedError, error != expected {
            failures.append(
                "Port should have refused the trigger with error \(expected), but said \(error)"
            )
        }
        return failures
    }

    /// Checks each run waits for approval and the consumer leaves it alone, then decides.
    private func decide(
        _ runIDs: [String],
        approve: Bool,
        session: TesterSession
    ) async throws -> ([String], [String: Date]) {
        var failures: [String] = []
        var decidedAt: [String: Date] = [:]
        if options.settle > .zero { try? await Task.sleep(for: options.settle) }
        for id in runIDs {
            let run = try await session.client.send("GET", "/_emulator/runs/\(id)")["run"]
            if run?["status"]?.stringValue != RunStatus.waitingForApproval.rawValue {
                failures.append(
                    "run \(id) should wait for approval, but is \(run?["status"]?.stringValue ?? "missing")"
                )
            }
            decidedAt[id] = Date()
            let answer = try await session.authorized(
                "PATCH",
                "/v1/actions/runs/\(id)/approval",
                body: ["status": .string(approve ? "APPROVE" : "DECLINE")]
            )
            if !(200..<300).contains(answer.status) {
                failures.append("approving run \(id) failed: \(answer.status)")
            }
        }
        return (failures, decidedAt)
    }

    /// Waits for the runs to finish (or the deadline, or a crash of the consumer).
    private func waitForRuns(
        _ runIDs: [String],
        within: Duration,
        idle: Duration?,
        session: TesterSession,
        consumer: ConsumerProcess?
    ) async throws {
        var pending = runIDs
        let begin = ContinuousClock.now
        var lastProgress = ContinuousClock.now
        var lastFinished = ContinuousClock.now
        while !pending.isEmpty {
            if let idle, isReady, ContinuousClock.now - lastFinished > idle {
                progress("… no run finished for \(DurationText.format(idle)): judging now")
                break
            }
            var deadline = begin + within
            if !isReady, consumer != nil { deadline = max(deadline, started + options.startupTimeout) }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { break }
            let slice = min(remaining, .seconds(1))
            let answer = try await session.client.send(
                "POST",
                "/_emulator/runs/wait",
                body: [
                    "ids": .array(pending.map(JSONValue.string)), "timeout": .string("\(slice.wholeMilliseconds)ms"),
                ],
                requestTimeout: slice + .seconds(30)
            )
            let stillPending = answer["pending"]?.arrayValue?.compactMap(\.stringValue) ?? []
            if stillPending.count < pending.count { lastFinished = .now }
            pending = stillPending
            if !isReady, consumer != nil {
                checkFirstCall(try await JournalLine.fetch(session.client))
            }
            if let consumer, !consumer.isRunning, consumer.exits.last?.intended == false {
                // It crashed: the scenario fails; start it again so later scenarios can run.
                break
            }
            if !pending.isEmpty, ContinuousClock.now - lastProgress >= .seconds(5) {
                lastProgress = .now
                progress(
                    "… \(runIDs.count - pending.count) of \(runIDs.count) runs finished after "
                        + VerifyReport.seconds(ContinuousClock.now - begin)
                        + (isReady ? "" : " (waiting for the consumer's first call)")
                )
            }
        }
    }

    // MARK: - Evidence and judgement

    private struct Evidence {
        var runs: [String: JSONValue]
        var journal: [JournalLine]
        var violations: [ViolationLine]
    }

    private func gather(session: TesterSession) async throws -> Evidence {
        let runs = try await session.client.send("GET", "/_emulator/runs")["runs"]?.arrayValue ?? []
        var byID: [String: JSONValue] = [:]
        for run in runs { if let id = run["id"]?.stringValue { byID[id] = run } }
        let violations = try await session.client.send("GET", "/_emulator/violations")["violations"]?.arrayValue ?? []
        return Evidence(
            runs: byID,
            journal: try await JournalLine.fetch(session.client),
            violations: violations.compactMap(ViolationLine.init).filter(\.countsAgainstConsumer)
        )
    }

    private func judge(
        _ scenario: Scenario,
        waited: Duration,
        triggeredAt: Date,
        runIDs: [String],
        evidence: Evidence,
        approvedAt: [String: Date],
        group: String?,
        info: EmulatorInfo?
    ) async -> ([String], RunStatistics) {
        let expect = scenario.expect
        var failures: [String] = []
        var statistics = RunStatistics()
        let scenarioRuns = Set(runIDs)
        var callsByRun: [String: [JournalLine]] = [:]
        for line in evidence.journal where line.isConsumerCall {
            guard let id = line.runID, scenarioRuns.contains(id) else { continue }
            callsByRun[id, default: []].append(line)
            statistics.consumerCalls += 1
            if line.injected != nil { statistics.injectedFaults += 1 }
            if line.method == "PATCH", line.path.hasSuffix(id), line.status == 400 || line.status == 422 {
                statistics.refusedReports += 1
            }
        }
        var committed: [Int32: Int64]?
        // A burst reports its first few problems of each kind, then a count.
        var reported: [String: Int] = [:]
        func fail(_ kind: String, _ message: @autoclosure () -> String) {
            reported[kind, default: 0] += 1
            if reported[kind]! <= 3 { failures.append(message()) }
        }
        for id in runIDs {
            guard let run = evidence.runs[id] else {
                fail("missing", "run \(id) is gone from the emulator")
                continue
            }
            let calls = callsByRun[id] ?? []
            let status = run["status"]?.stringValue ?? "?"
            statistics.statuses[status, default: 0] += 1
            if status == RunStatus.inProgress.rawValue { statistics.unfinished += 1 }
            if let ended = run["endedAt"]?.stringValue.flatMap({ PortTimestamp.parse($0) }) {
                statistics.lastFinishedAfter = max(
                    statistics.lastFinishedAfter ?? 0,
                    ended.timeIntervalSince(triggeredAt)
                )
            }
            if let expected = expect.status, status != expected.rawValue {
                var why =
                    "run \(id) is \(status) after \(VerifyReport.seconds(waited)) (allowed \(DurationText.format(expect.within))), "
                    + "expected \(expected.rawValue)"
                if status == RunStatus.inProgress.rawValue {
                    why += "; " + explainUnfinished(calls: calls)
                    if run["kafka"] == nil, run["action"]?["identifier"] != nil {
                        why += "; its invocation is not on Kafka yet (the emulator could not publish it in time)"
                    }
                    if let group, let info, let partition = run["kafka"]?["partition"]?.intValue,
                        let offset = run["kafka"]?["offset"]?.intValue
                    {
                        if committed == nil {
                            committed = await Self.committedOffsets(group: group, info: info, logger: logger)
                        }
                        if let next = committed?[Int32(partition)], next > offset {
                            statistics.lost += 1
                            why +=
                                "; its Kafka message (partition \(partition), offset \(offset)) was committed by group "
                                + "\(group) (next offset \(next)) although the run never finished: the run is lost"
                        }
                    }
                } else if let log = run["logs"]?.arrayValue?.last?["message"]?.stringValue {
                    why += " (last log: \"\(log.prefix(160))\")"
                }
                fail("status", why)
            }
            let logs = run["logs"]?.arrayValue?.count ?? 0
            if logs < expect.minLogs {
                fail("logs", "run \(id) has \(logs) log(s), expected at least \(expect.minLogs)")
            }
            let links = run["link"]?.arrayValue?.compactMap(\.stringValue) ?? []
            for link in expect.links where !links.contains(link) {
                fail(
                    "links",
                    "run \(id) lacks the link \(link) (it has \(links.isEmpty ? "none" : links.joined(separator: ", ")))"
                )
            }
            if links.count < expect.minLinks {
                fail("links", "run \(id) has \(links.count) link(s), expected at least \(expect.minLinks)")
            }
            if let label = expect.statusLabel, run["statusLabel"]?.stringValue != label {
                fail(
                    "label",
                    "run \(id) has status label \(run["statusLabel"]?.compactText ?? "null"), expected \"\(label)\""
                )
            }
            if let summary = expect.summary, run["summary"]?.stringValue != summary {
                fail(
                    "summary",
                    "run \(id) has summary \(run["summary"]?.compactText ?? "null"), expected \"\(summary)\""
                )
            }
            let affected = run["affectedEntities"]?.arrayValue ?? []
            for entity in expect.entities {
                let found = affected.contains { change in
                    change["operation"]?.stringValue.map { Self.kind(of: $0) } == entity.kind
                        && change["blueprint"]?.stringValue == entity.blueprint
                        && change["identifier"]?.stringValue == entity.identifier
                }
                if !found {
                    fail(
                        "entities",
                        "run \(id) should have \(entity.kind) entity \(entity.blueprint)/\(entity.identifier) "
                            + "with run_id=\(id); it \(affected.isEmpty ? "changed no entity" : "changed " + affected.map(Self.describeChange).joined(separator: ", "))"
                    )
                }
            }
            // Calls an injected fault answered do not count: retrying them is right.
            let counted = calls.filter { $0.injected == nil || $0.injected?.hasPrefix("latency") == true }
            if let limit = expect.maxAPICalls, counted.count > limit {
                fail(
                    "calls",
                    "the consumer made \(counted.count) API calls for run \(id) (not counting those an injected fault "
                        + "answered), at most \(limit) expected: "
                        + calls.prefix(12).map(\.text).joined(separator: ", ")
                )
            }
            if let decided = approvedAt[id], let early = calls.first(where: { $0.time < decided }) {
                fail("approval", "the consumer acted on run \(id) before it was approved: \(early.text)")
            }
        }
        for (kind, count) in reported where count > 3 {
            failures.append("… and \(count - 3) more run(s) with the same kind of problem (\(kind))")
        }
        return (failures, statistics)
    }

    /// Why a run is still in progress, from what the consumer did for it.
    private func explainUnfinished(calls: [JournalLine]) -> String {
        guard let last = calls.last else {
            return isReady
                ? "the consumer never called Port's API for it (it did not handle the invocation)"
                : "the consumer never called Port's API at all (it never became ready)"
        }
        return
            "the consumer made \(calls.count) call(s) for it but never reported a terminal status (last: \(last.text))"
    }

    private static func committedOffsets(group: String, info: EmulatorInfo, logger: Logger) async -> [Int32: Int64]? {
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: info.kafkaBootstrapServers.split(separator: ",").map(String.init),
            groupID: group
        )
        configuration.clientID = "port-emulator-verify"
        guard let reader = try? KafkaConsumer.make(configuration: configuration, logger: logger) else { return nil }
        defer { Task { await reader.close() } }
        return try? await reader.committedOffsets(
            topic: info.runsTopic,
            partitions: Int32(info.partitions),
            timeout: .seconds(5)
        )
    }

    private static func kind(of operation: String) -> String {
        switch operation.uppercased() {
        case "CREATE": "created"
        case "DELETE": "deleted"
        default: "updated"
        }
    }

    private static func describeChange(_ change: JSONValue) -> String {
        "\(change["operation"]?.stringValue ?? "?") \(change["blueprint"]?.stringValue ?? "?")/\(change["identifier"]?.stringValue ?? "?")"
    }

    private static func expected(_ scenario: Scenario) -> String {
        if let status = scenario.expect.refusedStatus { return "refused \(status)" }
        let status = scenario.expect.status?.rawValue ?? "finished"
        let runs = scenario.count > 1 ? "\(scenario.count)× " : ""
        return "\(runs)\(status) ≤ \(DurationText.format(scenario.expect.within))"
    }

    private static func got(_ runIDs: [String], evidence: Evidence) -> String {
        var counts: [String: Int] = [:]
        for id in runIDs { counts[evidence.runs[id]?["status"]?.stringValue ?? "missing", default: 0] += 1 }
        if runIDs.count == 1, let status = counts.keys.first { return status }
        return counts.sorted { $0.value > $1.value }.map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
    }

    private func notRun(_ scenario: Scenario, because reason: String) -> ScenarioResult {
        ScenarioResult(
            name: scenario.name,
            description: scenario.description,
            expected: Self.expected(scenario),
            got: "not run",
            duration: .zero,
            failures: ["not run: \(reason)"]
        )
    }

    private func tail(_ consumer: ConsumerProcess) -> String {
        let lines = consumer.logTail(5)
        return lines.isEmpty ? "(it printed nothing)" : lines.joined(separator: " | ")
    }

    private func note(_ event: String) {
        let stamped = "+\(VerifyReport.seconds(ContinuousClock.now - started)) \(event)"
        state.withLock { $0.events.append(stamped) }
        progress("· \(event)")
    }

    // MARK: - Chaos

    private func runChaos(_ profile: ChaosProfile, client: EmulatorClient, consumer: ConsumerProcess?) async {
        // Event times count from the consumer's readiness: a kill before it has joined its
        // group would test nothing.
        while !isReady {
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return }
        }
        note("chaos profile \(profile.name): \(profile.description)")
        await withTaskGroup(of: Void.self) { group in
            for event in profile.events {
                group.addTask {
                    do { try await Task.sleep(for: event.at) } catch { return }
                    while !Task.isCancelled {
                        switch event.action {
                        case .fault(let fault):
                            var tagged = fault.objectValue ?? [:]
                            tagged["tag"] = "chaos"
                            let answer = try? await client.send("POST", "/_emulator/faults", body: .object(tagged))
                            self.note("chaos: \(answer?["injected"]?.stringValue ?? "fault injection failed")")
                        case .killConsumer:
                            if let consumer, consumer.isRunning {
                                consumer.kill(SIGKILL)
                                _ = await consumer.waitForExit(timeout: .seconds(5))
                                self.note("chaos: consumer killed with SIGKILL; starting it again")
                                try? consumer.start()
                            }
                        }
                        guard let every = event.every else { return }
                        do { try await Task.sleep(for: every) } catch { return }
                    }
                }
            }
        }
    }
}

/// The tester's authenticated calls, fetching a token again when one expires (chaos may
/// expire every token).
actor TesterSession {
    let client: EmulatorClient
    private var token: String?

    init(client: EmulatorClient) { self.client = client }

    func authorized(
        _ method: String,
        _ path: String,
        body: JSONValue? = nil
    ) async throws -> (
        status: Int, json: JSONValue?
    ) {
        for attempt in 0..<5 {
            if token == nil { token = try await client.accessToken() }
            let answer = try await client.call(method, path, body: body, token: token)
            if answer.status == 401 {
                token = nil
                continue
            }
            // Chaos may answer the tester's own calls with an injected 5xx or 429: try again.
            if answer.status == 429 || (answer.status >= 500 && attempt < 4) {
                try await Task.sleep(for: .milliseconds(200 * (attempt + 1)))
                continue
            }
            return answer
        }
        return try await client.call(method, path, body: body, token: token)
    }
}

/// One journal entry, as `verify` reads it from the admin API.
struct JournalLine: Sendable {
    let time: Date
    let clientID: String?
    let method: String
    let path: String
    let status: Int
    let runID: String?
    let injected: String?

    /// A call the consumer made (not the tester's, not a fault event).
    var isConsumerCall: Bool {
        method != "FAULT" && method != "AUTOMATION" && clientID != EmulatorConfiguration.testerClientID
    }

    /// `PATCH /v1/actions/runs/r_1 → 200`.
    var text: String {
        "\(method) \(path) → \(status)" + (injected.map { " [injected: \($0)]" } ?? "")
    }

    static func fetch(_ client: EmulatorClient) async throws -> [JournalLine] {
        let entries = try await client.send("GET", "/_emulator/journal")["journal"]?.arrayValue ?? []
        return entries.compactMap { entry -> JournalLine? in
            guard let method = entry["method"]?.stringValue, let timeText = entry["time"]?.stringValue else {
                return nil
            }
            return JournalLine(
                time: PortTimestamp.parse(timeText) ?? Date(),
                clientID: entry["clientId"]?.stringValue,
                method: method,
                path: entry["path"]?.stringValue ?? "",
                status: Int(entry["status"]?.intValue ?? 0),
                runID: entry["runId"]?.stringValue,
                injected: entry["injected"]?.stringValue
            )
        }
    }
}

/// One violation, as `verify` reads it from the admin API.
struct ViolationLine: Sendable {
    let time: Date
    let clientID: String?
    let runID: String?
    let rule: String
    let text: String

    init?(_ json: JSONValue) {
        guard let method = json["method"]?.stringValue, let path = json["path"]?.stringValue else { return nil }
        time = json["time"]?.stringValue.flatMap { PortTimestamp.parse($0) } ?? Date()
        clientID = json["clientId"]?.stringValue
        runID = json["runId"]?.stringValue
        rule = json["rule"]?.stringValue ?? ""
        let status = json["status"]?.intValue ?? 0
        text =
            "\(method) \(path) → \(status) \(json["error"]?.stringValue ?? "") (rule \(rule)): "
            + (json["message"]?.stringValue ?? "")
    }

    /// Whether it is the consumer's fault: the tester's own refusals do not count, nor does
    /// a token refused because it expired (the consumer is expected to fetch a new one).
    var countsAgainstConsumer: Bool {
        clientID != EmulatorConfiguration.testerClientID && rule != "token-not-expired"
    }
}
