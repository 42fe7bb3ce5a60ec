import Emulator
import Logging
import PortContract
import PortKafka
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One scenario's steps: set up, trigger, approve, wait, gather the evidence and judge it.
extension Verifier {
    func run(
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
            expected: ScenarioJudge.expected(scenario),
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
                let finished = try await waitForRuns(
                    trigger.runIDs,
                    within: scenario.expect.within,
                    idle: scenario.expect.idle,
                    session: session,
                    consumer: consumer
                )
                if options.settle > .zero { try? await Task.sleep(for: options.settle) }
                let since = state.withLock { $0.judgedUntil }
                let evidence = try await gather(session: session, finished: finished)
                state.withLock { $0.judgedUntil = Date() }
                result.evicted = evidence.evicted
                checkFirstCall(evidence.journal)
                var judge = ScenarioJudge(
                    scenario: scenario,
                    runIDs: trigger.runIDs,
                    triggeredAt: beginDate,
                    waited: ContinuousClock.now - waitBegan
                )
                judge.approvedAt = approvedAt
                judge.consumerWasReady = isReady
                judge.invocations = lambdaInvocationSummaries(for: trigger.runIDs)
                if let group, let info, judge.needsCommittedOffsets(evidence),
                    let offsets = await Self.committedOffsets(group: group, info: info, logger: logger)
                {
                    judge.committed = (group, offsets)
                }
                let verdict = judge.verdict(on: evidence, since: since)
                result.failures += verdict.failures
                result.statistics = verdict.statistics
                result.got = verdict.got
                result.violations = verdict.violations
            }
        } catch {
            result.failures.append("verify could not drive the scenario: \(error)")
            if result.got.isEmpty { result.got = "error" }
        }
        // The runs were held from their creation (X-Port-Emulator-Hold-Runs): judged, they
        // may be evicted now.
        if !result.runIDs.isEmpty {
            _ = try? await session.client.call(
                "POST",
                "/_emulator/runs/release",
                body: ["ids": .array(result.runIDs.map(JSONValue.string))]
            )
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

    func prepare(_ scenario: Scenario, session: TesterSession, tag: String) async throws {
        for entity in scenario.setup {
            let answer = try await session.authorized(
                "POST",
                "/v1/blueprints/\(EmulatorClient.escape(entity.blueprint))/entities?upsert=true",
                body: entity.upsertBody
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

    struct Triggered {
        var runIDs: [String] = []
        /// Port's refusal of the trigger: its status and error code.
        var refusal: (status: Int, error: String)?
    }

    func triggerRuns(_ scenario: Scenario, session: TesterSession) async throws -> Triggered {
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

    func checkRefusal(_ scenario: Scenario, status: Int, error: String) -> [String] {
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
    func decide(
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

    /// Waits for the runs to finish (or the deadline, or a crash of the consumer); returns
    /// the runs that finished as the emulator showed them then (the oldest finished runs
    /// are evicted past the emulator's `--max-finished-runs`).
    func waitForRuns(
        _ runIDs: [String],
        within: Duration,
        idle: Duration?,
        session: TesterSession,
        consumer: ConsumerProcess?
    ) async throws -> [String: JSONValue] {
        var finished: [String: JSONValue] = [:]
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
            for run in answer["runs"]?.arrayValue ?? [] {
                if let id = run["id"]?.stringValue { finished[id] = run }
            }
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
        return finished
    }

    /// The runs (those kept, and those evicted since `waitForRuns` saw them finish), the
    /// journal and the violations, with how many of each the emulator's caps evicted.
    func gather(session: TesterSession, finished: [String: JSONValue] = [:]) async throws -> ScenarioEvidence {
        let runs = try await session.client.send("GET", "/_emulator/runs")
        let journal = try await session.client.send("GET", "/_emulator/journal")
        let violations = try await session.client.send("GET", "/_emulator/violations")
        let kept = runs["runs"]?.arrayValue ?? []
        let keptIDs = Set(kept.compactMap { $0["id"]?.stringValue })
        var evidence = ScenarioEvidence(
            runs: kept + finished.filter { !keptIDs.contains($0.key) }.map(\.value),
            journal: journal["journal"]?.arrayValue ?? [],
            violations: violations["violations"]?.arrayValue ?? []
        )
        evidence.evicted = EvictionCounts(
            journal: Int(journal["evicted"]?.intValue ?? 0),
            journalCapacity: Int(journal["capacity"]?.intValue ?? 0),
            violations: Int(violations["evicted"]?.intValue ?? 0),
            runs: Int(runs["evicted"]?.intValue ?? 0),
            runCapacity: Int(runs["capacity"]?.intValue ?? 0)
        )
        return evidence
    }

    static func committedOffsets(group: String, info: EmulatorInfo, logger: Logger) async -> [Int32: Int64]? {
        var configuration = KafkaConsumerConfiguration(
            bootstrapServers: info.kafkaBootstrapServers.split(separator: ",").map(String.init),
            groupID: group
        )
        configuration.clientID = "port-emulator-verify"
        guard let reader = try? KafkaConsumer.make(configuration: configuration, logger: logger) else { return nil }
        let offsets = try? await reader.committedOffsets(
            topic: info.runsTopic,
            partitions: Int32(info.partitions),
            timeout: .seconds(5)
        )
        await reader.close()
        return offsets
    }

    func notRun(_ scenario: Scenario, because reason: String) -> ScenarioResult {
        ScenarioResult(
            name: scenario.name,
            description: scenario.description,
            expected: ScenarioJudge.expected(scenario),
            got: "not run",
            duration: .zero,
            failures: ["not run: \(reason)"]
        )
    }
}
