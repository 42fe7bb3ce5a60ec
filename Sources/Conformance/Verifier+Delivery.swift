import Emulator
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Verifier {
    /// Does what an automation scenario's cause says, then waits (up to `within`) for the
    /// automation's new run. Answers like a trigger route: `{run: {id}}` with 201, or the
    /// refusal of the cause's own call.
    func triggerAutomation(
        _ automation: String,
        cause: Scenario.AutomationCause,
        within: Duration,
        session: TesterSession
    ) async throws -> (status: Int, json: JSONValue?) {
        let listPath = "/v1/actions/runs?action=\(EmulatorClient.escape(automation))"
        let runIDs = { @Sendable (answer: (status: Int, json: JSONValue?)) -> Set<String> in
            Set((answer.json?["runs"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
        }
        let before = runIDs(try await session.authorized("GET", listPath))
        if let entity = cause.upsert {
            let answer = try await session.authorized(
                "POST",
                "/v1/blueprints/\(EmulatorClient.escape(entity.blueprint))/entities?upsert=true",
                body: entity.upsertBody
            )
            guard (200..<300).contains(answer.status) else { return answer }
        }
        if let action = cause.action {
            var body: JSONObject = ["properties": .object(cause.inputs)]
            body["entity"] = cause.entity.map(JSONValue.string)
            let answer = try await session.authorized(
                "POST",
                "/v1/actions/\(EmulatorClient.escape(action))/runs",
                body: .object(body)
            )
            guard (200..<300).contains(answer.status) else { return answer }
        }
        if let clock = cause.clock {
            let answer = try await session.client.call("POST", "/_emulator/clock", body: clock)
            guard (200..<300).contains(answer.status) else { return answer }
        }
        let deadline = ContinuousClock.now + within
        while true {
            if let fresh = runIDs(try await session.authorized("GET", listPath)).subtracting(before).first {
                return (201, ["run": ["id": .string(fresh)]])
            }
            guard ContinuousClock.now < deadline else {
                throw ScenarioError(
                    message: "automation \(automation) did not fire within \(DurationText.format(within)) of its cause"
                )
            }
            try await Task.sleep(for: .milliseconds(50))
        }
    }
}

extension Verifier {
    /// Sets the organization's streamer to `POLLING`, as port-agent does at start-up in
    /// polling mode; returns why it could not, if it could not.
    func switchToPolling(_ session: TesterSession) async -> String? {
        do {
            let answer = try await session.authorized(
                "PATCH",
                "/v1/organization",
                body: ["settings": ["portAgentStreamerName": "POLLING"]]
            )
            guard (200..<300).contains(answer.status) else {
                return "the emulator refused to switch the organization to polling: \(answer.status) "
                    + (answer.json?["message"]?.stringValue ?? "")
            }
            return nil
        } catch {
            return "the emulator could not be switched to polling: \(error)"
        }
    }
}
