import Emulator
import PortContract
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// `verify --lambda`: the function runs in the emulator's execution environment (its
/// runtime client started, restarted after a crash or a timeout, by the emulator), invoked
/// by the emulator's event source mapping; the scenarios and their verdicts are the same as
/// for a consumer, and each scenario's result lists the invocations that carried its runs.
extension Verifier {
    /// Runs the scenarios against the Lambda function of `emulator`.
    func verifyLambda(_ emulator: PortEmulator, report initial: VerifyReport) async throws -> VerifyReport {
        var report = initial
        guard let lambda = emulator.lambda else { throw ScenarioError(message: "the emulator has no Lambda function") }
        report.consumer =
            "Lambda function \(lambda.settings.functionName): " + options.consumerCommand.joined(separator: " ")
        report.consumerLog = options.consumerLogPath
        state.withLock { $0.lambdaLog = lambda.log }
        note(
            "Lambda function started: \(options.consumerCommand.joined(separator: " ")) (its output: \(options.consumerLogPath)); "
                + "event source mapping in group \(lambda.settings.group(orgID: emulator.info.orgID))"
        )
        let client = try EmulatorClient(url: emulator.info.apiBaseURL).asTester
        if let failure = await waitForRuntime(lambda) {
            report.results = options.scenarios.map { notRun($0, because: failure) }
        } else {
            report.results = await runScenarios(
                client: client,
                consumer: nil,
                group: lambda.settings.group(orgID: emulator.info.orgID),
                info: emulator.info
            )
        }
        let invocations = lambda.log.entries
        note(
            "Lambda: \(invocations.count) invocation(s), \(invocations.filter { !$0.succeeded }.count) failed; "
                + "\(lambda.status["environments"]?.intValue ?? 0) execution environment(s)"
        )
        return report
    }

    /// Waits until the runtime client first asks for work (`GET …/invocation/next`) and the
    /// event source mapping holds its partitions (the group's first join waits 3 s for more
    /// members); the reason it did not, or nil.
    private func waitForRuntime(_ lambda: LambdaHost) async -> String? {
        let deadline = ContinuousClock.now + options.startupTimeout
        var lastNotice = ContinuousClock.now
        while ContinuousClock.now < deadline {
            if lambda.runtime.nextCalls > 0, lambda.mappingAssigned {
                let after = ContinuousClock.now - started
                state.withLock {
                    $0.readyAt = .now
                    $0.readiness =
                        "ready after \(VerifyReport.seconds(after)): its runtime client asked for work and the "
                        + "event source mapping holds its partitions"
                }
                note(
                    "Lambda function ready after \(VerifyReport.seconds(after)): its runtime client asked for work "
                        + "and the event source mapping holds its partitions"
                )
                return nil
            }
            if ContinuousClock.now - lastNotice > .seconds(5) {
                lastNotice = .now
                progress("… waiting for the function's runtime client to call the Runtime API")
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let errors = lambda.runtime.initErrors.suffix(3).joined(separator: " | ")
        return
            "the function's runtime client never asked for work within \(DurationText.format(options.startupTimeout))"
            + (errors.isEmpty ? "" : "; its init errors: \(errors)")
            + "; its output is in \(options.consumerLogPath)"
    }

    /// The invocations that carried any of `runIDs`, one line each, for the report.
    func lambdaInvocations(for runIDs: [String]) -> [String] {
        guard let log = state.withLock({ $0.lambdaLog }) else { return [] }
        let wanted = Set(runIDs)
        return log.entries.filter { !wanted.isDisjoint(with: $0.runIDs) }.map(Self.describe)
    }

    /// With `--lambda`, each run's invocations in a few words (`#1 success, then committed`);
    /// nil without a function.
    func lambdaInvocationSummaries(for runIDs: [String]) -> [String: String]? {
        guard let log = state.withLock({ $0.lambdaLog }) else { return nil }
        let entries = log.entries
        var summaries: [String: String] = [:]
        for id in runIDs {
            let carrying = entries.filter { $0.runIDs.contains(id) }
            guard !carrying.isEmpty else { continue }
            summaries[id] = carrying.map { "#\($0.number) \($0.outcome), then \($0.then)" }.joined(separator: "; ")
        }
        return summaries
    }

    /// `#3 attempt 2: 1 record (org.runs-1@4): error Exception: boom, 12 ms, then retrying`.
    static func describe(_ entry: LambdaInvocationLog.Entry) -> String {
        let records = entry.records.count == 1 ? "1 record" : "\(entry.records.count) records"
        let shown = entry.records.prefix(3).joined(separator: ", ") + (entry.records.count > 3 ? ", …" : "")
        let milliseconds = Int((entry.duration.seconds * 1000).rounded())
        return
            "#\(entry.number) attempt \(entry.attempt): \(records) (\(shown)): \(entry.outcome), \(milliseconds) ms, then \(entry.then)"
    }
}
