import Emulator
package import PortContract

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// What the emulator saw during a scenario: its runs, the journal of calls and the
/// consumer's contract violations.
package struct ScenarioEvidence: Sendable {
    /// Runs by id, as `GET /_emulator/runs` shows them.
    var runs: [String: JSONValue]
    /// Every call in the journal, oldest first.
    var journal: [JournalLine]
    /// The violations that count against the consumer.
    var violations: [ViolationLine]
    /// How many entries the emulator's caps had evicted by then.
    var evicted = EvictionCounts()

    /// Evidence from what the admin API answers: runs, journal entries and violations.
    package init(runs: [JSONValue], journal: [JSONValue], violations: [JSONValue]) {
        var byID: [String: JSONValue] = [:]
        for run in runs { if let id = run["id"]?.stringValue { byID[id] = run } }
        self.runs = byID
        self.journal = journal.compactMap(JournalLine.init)
        self.violations = violations.compactMap(ViolationLine.init).filter(\.countsAgainstConsumer)
    }
}

/// Judges one scenario: evidence in, failures and statistics out. Pure: it asks nothing
/// of the emulator or of Kafka (the verifier fetches the group's committed offsets first,
/// when `needsCommittedOffsets` says the verdict needs them).
package struct ScenarioJudge: Sendable {
    /// The scenario judged.
    package var scenario: Scenario
    /// The runs it triggered.
    package var runIDs: [String]
    /// When it triggered them.
    package var triggeredAt: Date
    /// How long it waited for them.
    package var waited: Duration
    /// When each approved run was approved.
    package var approvedAt: [String: Date] = [:]
    /// Whether the consumer was ready (had called Port's API, or printed its ready line).
    package var consumerWasReady = true
    /// With `verify --lambda`: each run's invocations, in a few words (`#1 success, then
    /// committed`), so that an unfinished run says what the function was given.
    package var invocations: [String: String]?
    /// The consumer's group, and the next offset it committed for each partition, when known.
    package var committed: (group: String, offsets: [Int32: Int64])?

    /// The verdict of one scenario.
    package struct Verdict: Sendable, Equatable {
        package var failures: [String] = []
        package var statistics = RunStatistics()
        /// What the runs ended as, in a few words (`SUCCESS`, `2× SUCCESS, 1× FAILURE`).
        package var got = ""
        /// The violations about these runs, or during the scenario for those naming no run.
        package var violations: [String] = []
    }

    /// Whether a run expected to finish is still in progress with its message on Kafka:
    /// then the group's committed offsets tell whether it was lost.
    package func needsCommittedOffsets(_ evidence: ScenarioEvidence) -> Bool {
        guard let expected = scenario.expect.status, expected != .inProgress else { return false }
        return runIDs.contains { id in
            evidence.runs[id]?["status"]?.stringValue == RunStatus.inProgress.rawValue
                && evidence.runs[id]?["kafka"]?["partition"]?.intValue != nil
        }
    }

    /// A judge of `scenario`'s runs `runIDs`, triggered at `triggeredAt` and waited for `waited`.
    package init(scenario: Scenario, runIDs: [String], triggeredAt: Date, waited: Duration) {
        self.scenario = scenario
        self.runIDs = runIDs
        self.triggeredAt = triggeredAt
        self.waited = waited
    }

    /// Judges the evidence against the scenario's expectations.
    package func verdict(on evidence: ScenarioEvidence, since began: Date) -> Verdict {
        var verdict = Verdict()
        (verdict.failures, verdict.statistics) = judgeRuns(evidence)
        verdict.got = Self.got(runIDs, evidence: evidence)
        let scenarioRuns = Set(runIDs)
        verdict.violations = evidence.violations.filter { violation in
            violation.runID.map(scenarioRuns.contains) ?? (violation.time >= began)
        }.map(\.text)
        for violation in evidence.violations where violation.runID.map(scenarioRuns.contains) ?? false {
            verdict.statistics.violationsByRule[violation.rule, default: 0] += 1
        }
        if verdict.violations.count > scenario.expect.maxViolations {
            verdict.failures += verdict.violations.prefix(3).map { "contract violation: \($0)" }
            if verdict.violations.count > 3 {
                verdict.failures.append("… and \(verdict.violations.count - 3) more violation(s)")
            }
        }
        return verdict
    }

    /// The scenario's expectation in a few words, for the report's table.
    static func expected(_ scenario: Scenario) -> String {
        if let status = scenario.expect.refusedStatus { return "refused \(status)" }
        let status = scenario.expect.status?.rawValue ?? "finished"
        let runs = scenario.count > 1 ? "\(scenario.count)× " : ""
        return "\(runs)\(status) ≤ \(DurationText.format(scenario.expect.within))"
    }

    private static func got(_ runIDs: [String], evidence: ScenarioEvidence) -> String {
        var counts: [String: Int] = [:]
        for id in runIDs { counts[evidence.runs[id]?["status"]?.stringValue ?? "missing", default: 0] += 1 }
        if runIDs.count == 1, let status = counts.keys.first { return status }
        return counts.sorted { $0.value > $1.value }.map { "\($0.value)× \($0.key)" }.joined(separator: ", ")
    }

    /// Each run against the expectations: status, logs, links, label, summary, entities,
    /// API calls, approval order; a burst reports its first few problems of each kind.
    private func judgeRuns(_ evidence: ScenarioEvidence) -> ([String], RunStatistics) {
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
        // A burst reports its first few problems of each kind, then a count.
        var reported: [String: Int] = [:]
        func fail(_ kind: String, _ message: @autoclosure () -> String) {
            reported[kind, default: 0] += 1
            if reported[kind]! <= 3 { failures.append(message()) }
        }
        for id in runIDs {
            guard let run = evidence.runs[id] else {
                fail(
                    "missing",
                    "run \(id) is gone from the emulator"
                        + (evidence.evicted.runs > 0
                            ? " (it finished and was evicted, past the emulator's --max-finished-runs "
                                + "\(evidence.evicted.runCapacity), before verify saw it finish: raise the cap)"
                            : "")
                )
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
                    why += "; " + explainUnfinished(id, calls: calls)
                    if run["kafka"] == nil, run["action"]?["identifier"] != nil {
                        why += "; its invocation is not on Kafka yet (the emulator could not publish it in time)"
                    }
                    if let (group, offsets) = committed, let partition = run["kafka"]?["partition"]?.intValue,
                        let offset = run["kafka"]?["offset"]?.intValue
                    {
                        if let next = offsets[Int32(partition)], next > offset {
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
    private func explainUnfinished(_ id: String, calls: [JournalLine]) -> String {
        if let invocations {
            let given =
                invocations[id].map { "the function was invoked with it (\($0))" }
                ?? "the function was never invoked with it"
            guard let last = calls.last else { return given + " but never called Port's API for it" }
            return given + " and made \(calls.count) call(s) for it but never reported a terminal status "
                + "(last: \(last.text))"
        }
        guard let last = calls.last else {
            return consumerWasReady
                ? "the consumer never called Port's API for it (it did not handle the invocation)"
                : "the consumer never called Port's API at all (it never became ready)"
        }
        return
            "the consumer made \(calls.count) call(s) for it but never reported a terminal status (last: \(last.text))"
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
}
