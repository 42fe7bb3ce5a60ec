import Emulator
import Logging
package import PortContract
import PortKafka
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

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
package struct JournalLine: Sendable, Equatable {
    let time: Date
    let clientID: String?
    let method: String
    let path: String
    let status: Int
    let runID: String?
    let injected: String?

    /// An entry of `GET /_emulator/journal`; nil without a method or a time.
    package init?(_ entry: JSONValue) {
        guard let method = entry["method"]?.stringValue, let timeText = entry["time"]?.stringValue else {
            return nil
        }
        time = PortTimestamp.parse(timeText) ?? Date()
        clientID = entry["clientId"]?.stringValue
        self.method = method
        path = entry["path"]?.stringValue ?? ""
        status = Int(entry["status"]?.intValue ?? 0)
        runID = entry["runId"]?.stringValue
        injected = entry["injected"]?.stringValue
    }

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
        return entries.compactMap(JournalLine.init)
    }
}

/// One violation, as `verify` reads it from the admin API.
package struct ViolationLine: Sendable, Equatable {
    let time: Date
    let clientID: String?
    let runID: String?
    let rule: String
    let text: String

    /// An entry of `GET /_emulator/violations`; nil without a method or a path.
    package init?(_ json: JSONValue) {
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
