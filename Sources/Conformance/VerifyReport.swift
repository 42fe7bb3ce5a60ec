import Emulator
public import PortContract

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// The outcome of one scenario.
public struct ScenarioResult: Sendable {
    /// The scenario's name.
    public var name: String
    /// What it checks.
    public var description: String
    /// What was expected, in a few words (`SUCCESS ≤ 10s`, `refused 422`).
    public var expected: String
    /// What happened, in a few words.
    public var got: String
    /// From the trigger until the verdict.
    public var duration: Duration
    /// The contract violations the consumer caused in it.
    public var violations: [String] = []
    /// Why it failed; empty when it passed.
    public var failures: [String] = []
    /// The runs it started.
    public var runIDs: [String] = []
    /// Counts over its runs.
    public var statistics = RunStatistics()
    /// With `--lambda`: the invocations that carried its runs, one line each (batch,
    /// outcome, attempt, duration, what the mapping did next).
    public var invocations: [String] = []
    /// How many entries the emulator's caps had evicted when the scenario was judged
    /// (counted since the emulator started).
    public var evicted = EvictionCounts()
    /// Whether it passed.
    public var passed: Bool { failures.isEmpty }

    /// A result; it passes when `failures` is empty.
    public init(
        name: String,
        description: String,
        expected: String,
        got: String,
        duration: Duration,
        failures: [String] = []
    ) {
        self.name = name
        self.description = description
        self.expected = expected
        self.got = got
        self.duration = duration
        self.failures = failures
    }
}

/// Counts over a scenario's runs, for reliability figures.
public struct RunStatistics: Sendable, Equatable {
    /// Runs by final status.
    public var statuses: [String: Int] = [:]
    /// Runs not finished when the scenario was judged.
    public var unfinished = 0
    /// Unfinished runs whose Kafka message the consumer's group had committed: no consumer
    /// will read them again.
    public var lost = 0
    /// Reports (`PATCH` of the run) Port refused, mostly because the run had already finished.
    public var refusedReports = 0
    /// Calls the consumer made for the runs.
    public var consumerCalls = 0
    /// Those of the calls an injected fault answered or delayed.
    public var injectedFaults = 0
    /// The consumer's violations by contract rule.
    public var violationsByRule: [String: Int] = [:]
    /// Seconds from the scenario's start until its last run finished.
    public var lastFinishedAfter: Double?

    var json: JSONValue {
        [
            "statuses": .object(
                JSONObject(statuses.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })
            ),
            "unfinished": .int(Int64(unfinished)), "lost": .int(Int64(lost)),
            "refusedReports": .int(Int64(refusedReports)), "consumerCalls": .int(Int64(consumerCalls)),
            "injectedFaults": .int(Int64(injectedFaults)),
            "lastFinishedAfterSeconds": lastFinishedAfter.map(JSONValue.double) ?? .null,
            "violationsByRule": .object(
                JSONObject(violationsByRule.sorted { $0.key < $1.key }.map { ($0.key, .int(Int64($0.value))) })
            ),
        ]
    }
}

/// How many entries the emulator's caps had evicted (`--max-journal-entries`,
/// `--max-finished-runs`): the report judges what was kept, so a call evicted is not a
/// call never made.
public struct EvictionCounts: Sendable, Equatable {
    /// API calls evicted from the journal.
    public var journal = 0
    /// How many calls the journal keeps.
    public var journalCapacity = 0
    /// Refused requests evicted from the violations list.
    public var violations = 0
    /// Finished runs evicted.
    public var runs = 0
    /// How many finished runs are kept.
    public var runCapacity = 0

    /// No evictions.
    public init() {}

    /// The counts the admin API gave.
    public init(journal: Int, journalCapacity: Int, violations: Int, runs: Int, runCapacity: Int) {
        self.journal = journal
        self.journalCapacity = journalCapacity
        self.violations = violations
        self.runs = runs
        self.runCapacity = runCapacity
    }

    /// Whether anything was evicted.
    public var any: Bool { journal > 0 || violations > 0 || runs > 0 }

    /// One sentence for the report.
    public var text: String {
        var parts: [String] = []
        if journal > 0 { parts.append("\(journal) journal entries (--max-journal-entries \(journalCapacity))") }
        if violations > 0 { parts.append("\(violations) violations (--max-journal-entries \(journalCapacity))") }
        if runs > 0 { parts.append("\(runs) finished runs (--max-finished-runs \(runCapacity))") }
        return "The emulator's caps evicted its oldest " + parts.joined(separator: ", ")
            + ": the report judges the calls kept and the runs as verify saw them finish."
    }

    var json: JSONValue {
        [
            "journal": .int(Int64(journal)), "violations": .int(Int64(violations)), "runs": .int(Int64(runs)),
            "journalCapacity": .int(Int64(journalCapacity)), "runCapacity": .int(Int64(runCapacity)),
        ]
    }
}

/// Everything `verify` found: one result per scenario, and the consumer's life.
public struct VerifyReport: Sendable {
    /// The results, in the order run.
    public var results: [ScenarioResult] = []
    /// The consumer's command line, or the URL of the emulator verified against.
    public var consumer: String = ""
    /// How the consumer was judged ready, and when.
    public var readiness: String = ""
    /// What happened to the consumer and the chaos profile, in order.
    public var events: [String] = []
    /// The chaos profile, if one ran.
    public var chaos: String?
    /// The whole run.
    public var duration: Duration = .zero
    /// The consumer's log file, when `verify` ran the consumer.
    public var consumerLog: String?

    /// An empty report.
    public init() {}

    /// Whether every scenario passed.
    public var passed: Bool { !results.isEmpty && results.allSatisfy(\.passed) }

    /// What the emulator's caps had evicted by the last scenario.
    public var evicted: EvictionCounts { results.last?.evicted ?? EvictionCounts() }

    /// The summary table: scenario, expected, got, time, violations, verdict; each failure
    /// explained below it.
    public var table: String {
        let header = ["scenario", "expected", "got", "time", "violations", ""]
        let rows = results.map { result in
            [
                result.name, result.expected, result.got, Self.seconds(result.duration),
                String(result.violations.count), result.passed ? "PASS" : "FAIL",
            ]
        }
        let widths = header.indices.map { column in
            ([header] + rows).map { $0[column].count }.max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0 + String(repeating: " ", count: max(0, $1 - $0.count)) }
                .joined(separator: "  ").trimmingWhitespace()
        }
        var lines = [line(header), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        lines += rows.map(line)
        let failed = results.filter { !$0.passed }
        lines.append("")
        lines.append(
            "\(results.count - failed.count) of \(results.count) scenarios passed in \(Self.seconds(duration))"
                + (chaos.map { " (chaos profile \($0))" } ?? "")
        )
        for result in failed {
            lines.append("")
            lines.append("FAIL \(result.name): \(result.description)")
            lines += result.failures.map { "  - \($0)" }
        }
        let invoked = results.filter { !$0.invocations.isEmpty }
        if !invoked.isEmpty {
            lines.append("")
            lines.append("Lambda invocations per scenario:")
            for result in invoked {
                lines.append("  \(result.name):")
                lines += result.invocations.prefix(10).map { "    \($0)" }
                if result.invocations.count > 10 { lines.append("    … \(result.invocations.count - 10) more") }
            }
        }
        if evicted.any { lines.append("\n" + evicted.text) }
        if let consumerLog, !passed { lines.append("\nThe consumer's output is in \(consumerLog)") }
        return lines.joined(separator: "\n")
    }

    /// The report as JUnit XML, which CI tools (GitHub Actions, GitLab, Jenkins) read:
    /// one test case per scenario, its failures in the failure message.
    public var junitXML: String {
        let failures = results.filter { !$0.passed }.count
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml +=
            #"<testsuites name="port-emulator verify" tests="\#(results.count)" failures="\#(failures)" time="\#(Self.plainSeconds(duration))">"#
            + "\n"
        xml +=
            #"  <testsuite name="port-emulator verify" tests="\#(results.count)" failures="\#(failures)" errors="0" skipped="0" time="\#(Self.plainSeconds(duration))">"#
            + "\n"
        xml += "    <properties>\n"
        xml += #"      <property name="consumer" value="\#(Self.escape(consumer))"/>"# + "\n"
        if let chaos { xml += #"      <property name="chaos" value="\#(Self.escape(chaos))"/>"# + "\n" }
        xml += "    </properties>\n"
        for result in results {
            xml +=
                #"    <testcase classname="scenarios" name="\#(Self.escape(result.name))" time="\#(Self.plainSeconds(result.duration))">"#
            xml += "\n"
            if !result.passed {
                let message = Self.escape(result.failures.first ?? "failed")
                xml += #"      <failure message="\#(message)" type="ContractFailure">"#
                xml += Self.escape(
                    (["\(result.description)", "expected: \(result.expected)", "got: \(result.got)"]
                        + result.failures.map { "- \($0)" }).joined(separator: "\n")
                )
                xml += "</failure>\n"
            }
            let invocations =
                result.invocations.isEmpty ? "" : "\ninvocations:\n" + result.invocations.joined(separator: "\n")
            xml +=
                "      <system-out>\(Self.escape(result.description + "\nruns: " + result.runIDs.prefix(20).joined(separator: " ") + invocations))</system-out>\n"
            xml += "    </testcase>\n"
        }
        xml += "    <system-out>\(Self.escape(([readiness] + events).joined(separator: "\n")))</system-out>\n"
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    /// The report as JSON, for scripts and dashboards.
    public var json: JSONValue {
        var object: JSONObject = [
            "passed": .bool(passed),
            "scenarios": .int(Int64(results.count)),
            "failed": .int(Int64(results.filter { !$0.passed }.count)),
            "seconds": .double(duration.seconds),
            "consumer": .string(consumer),
            "readiness": .string(readiness),
            "events": .array(events.map(JSONValue.string)),
            "results": .array(
                results.map { result in
                    [
                        "name": .string(result.name), "description": .string(result.description),
                        "passed": .bool(result.passed), "expected": .string(result.expected),
                        "got": .string(result.got), "seconds": .double(result.duration.seconds),
                        "violations": .array(result.violations.map(JSONValue.string)),
                        "failures": .array(result.failures.map(JSONValue.string)),
                        "runs": .array(result.runIDs.map(JSONValue.string)),
                        "statistics": result.statistics.json,
                        "invocations": .array(result.invocations.map(JSONValue.string)),
                    ]
                }
            ),
        ]
        object["evicted"] = evicted.json
        object["chaos"] = chaos.map(JSONValue.string)
        object["consumerLog"] = consumerLog.map(JSONValue.string)
        return .object(object)
    }

    /// The JSON report, indented for people.
    public var prettyJSON: Data {
        Data(json.prettyBytes(sortedKeys: true))
    }

    /// `1.23s`.
    static func seconds(_ duration: Duration) -> String {
        cFormat("%.2fs", duration.seconds)
    }

    private static func plainSeconds(_ duration: Duration) -> String {
        cFormat("%.3f", duration.seconds)
    }

    private static func escape(_ text: String) -> String {
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "\n", "\t": escaped.unicodeScalars.append(scalar)
            case _ where scalar.value < 0x20: escaped += " "
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
