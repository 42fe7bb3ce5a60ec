import PortContract
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The organization's integrations (Ocean's installations), as `/v1/integration` shows them:
/// what Ocean created and patched, its resync state and resync requests, and what it sent
/// to its log and metrics ingest URLs.
///
/// **Emulator choices** (`fixtures/README.md`): an integration's identifier is its
/// `installationId`; it is `installationType: "OnPrem"`; its log and metric ingest URLs are
/// the emulator's own (`/_emulator/integrations/{id}/logs` and `…/metrics`), where the last
/// 1,000 log lines and sync metrics are kept and served back; a `PATCH` with an empty
/// body is a resync request (Port's "triggers a resync"), which Ocean's polling listener reads.
final class IntegrationStore: Sendable {
    private struct State {
        var records: [String: JSONObject] = [:]
        var order: [String] = []
        var logs: [String: [JSONValue]] = [:]
        var resyncRequests: [String: Date] = [:]
        var examples: [String: JSONObject] = [:]
        /// Ocean's sync metrics by integration, then by `eventId/kindIndex` (in arrival order).
        var metrics: [String: [(key: String, value: JSONValue)]] = [:]
    }

    /// How many ingested log lines are kept per integration.
    static let keptLogLines = 1000

    private let state = Mutex(State())

    /// Every integration, oldest first.
    var all: [JSONObject] { state.withLock { state in state.order.compactMap { state.records[$0] } } }

    /// The integration, or 404 `not_found`.
    func integration(_ identifier: String) throws(PortError) -> JSONObject {
        guard let record = state.withLock({ $0.records[identifier] }) else { throw Self.notFound(identifier) }
        return record
    }

    /// Creates an integration from Ocean's body; its `installationId` is taken (409) or new.
    func create(_ body: JSONObject, by client: String, ingestBase: String) throws(PortError) -> JSONObject {
        guard let identifier = body["installationId"]?.stringValue, !identifier.isEmpty else {
            throw .invalidRequest("body.installationId is required (a string naming the installation)")
        }
        let now = PortTimestamp.format(Date())
        var record: JSONObject = [
            "identifier": .string(identifier), "installationId": .string(identifier), "title": .string(identifier),
            "installationType": "OnPrem", "installationAppType": .null, "version": .null, "config": [:],
            "changelogDestination": [:], "actionsProcessingEnabled": false, "arePortResourcesInitialized": false,
            "resyncState": ["status": .null, "updatedAt": now],
            "logAttributes": ["ingestUrl": .string("\(ingestBase)/_emulator/integrations/\(identifier)/logs")],
            "metricAttributes": ["ingestUrl": .string("\(ingestBase)/_emulator/integrations/\(identifier)/metrics")],
            "createdAt": now, "createdBy": .string(client), "updatedAt": now, "updatedBy": .string(client),
        ]
        for (key, value) in body where !Self.managed.contains(key) { record[key] = value }
        return try state.withLock { (state) throws(PortError) -> JSONObject in
            guard state.records[identifier] == nil else {
                throw PortError(
                    status: 409,
                    code: "identifier_taken",
                    message: "An integration with installationId \"\(identifier)\" already exists",
                    rule: "identifier-unique"
                )
            }
            state.records[identifier] = record
            state.order.append(identifier)
            return record
        }
    }

    /// Replaces each member the body names (an empty body is a resync request instead).
    func patch(_ identifier: String, _ body: JSONObject, by client: String) throws(PortError) -> JSONObject {
        try update(identifier, by: client) { record, state in
            if body.isEmpty { state.resyncRequests[identifier] = Date() }
            for (key, value) in body where !Self.managed.contains(key) { record[key] = value }
        }
    }

    /// Merges the resync state Ocean reports into the last one (its `completed` report leaves
    /// out `lastResyncStart`), stamped with `updatedAt`.
    func setResyncState(_ identifier: String, _ body: JSONObject, by client: String) throws(PortError) -> JSONObject {
        try update(identifier, by: client) { record, _ in
            var resync = record["resyncState"]?.objectValue ?? [:]
            for (key, value) in body { resync[key] = value }
            resync["updatedAt"] = PortTimestamp.format(Date())
            record["resyncState"] = .object(resync)
        }
    }

    /// The last resync request, if any: `{updatedAt}`.
    func resyncRequest(_ identifier: String) throws(PortError) -> JSONValue {
        _ = try integration(identifier)
        return state.withLock { $0.resyncRequests[identifier] }.map { ["updatedAt": PortTimestamp.format($0)] }
            ?? .null
    }

    /// Deletes the integration and what it sent.
    func delete(_ identifier: String) throws(PortError) {
        try state.withLock { (state) throws(PortError) in
            guard state.records.removeValue(forKey: identifier) != nil else { throw Self.notFound(identifier) }
            state.order.removeAll { $0 == identifier }
            state.logs[identifier] = nil
            state.resyncRequests[identifier] = nil
            state.examples[identifier] = nil
            state.metrics[identifier] = nil
        }
    }

    /// Keeps the examples of a kind's raw data Ocean sends.
    func setExamples(_ identifier: String, kind: String, _ examples: JSONValue) throws(PortError) {
        try state.withLock { (state) throws(PortError) in
            guard state.records[identifier] != nil else { throw Self.notFound(identifier) }
            state.examples[identifier, default: [:]][kind] = examples
        }
    }

    /// Appends ingested log lines (the last ``keptLogLines`` are kept).
    func appendLogs(_ identifier: String, _ lines: [JSONValue]) throws(PortError) {
        try state.withLock { (state) throws(PortError) in
            guard state.records[identifier] != nil else { throw Self.notFound(identifier) }
            var logs = state.logs[identifier, default: []]
            logs.append(contentsOf: lines)
            state.logs[identifier] = Array(logs.suffix(Self.keptLogLines))
        }
    }

    /// Keeps the per-kind sync metrics Ocean sends (each item is keyed by its `eventId` and
    /// `kindIndex`; a later one replaces an earlier one).
    func recordMetrics(_ identifier: String, _ items: [JSONValue]) throws(PortError) {
        try state.withLock { (state) throws(PortError) in
            guard state.records[identifier] != nil else { throw Self.notFound(identifier) }
            var kept = state.metrics[identifier, default: []]
            for item in items where item.objectValue != nil {
                let key = "\(item["eventId"]?.compactText ?? "")/\(item["kindIndex"]?.compactText ?? "")"
                if let index = kept.firstIndex(where: { $0.key == key }) {
                    kept[index].value = item
                } else {
                    kept.append((key, item))
                }
            }
            state.metrics[identifier] = Array(kept.suffix(Self.keptLogLines))
        }
    }

    /// The sync metrics kept, of one resync when `resyncID` is given.
    func metrics(_ identifier: String, resyncID: String?) throws(PortError) -> [JSONValue] {
        _ = try integration(identifier)
        return state.withLock { $0.metrics[identifier] ?? [] }.map(\.value).filter { item in
            resyncID.map { item["eventId"]?.stringValue == $0 } ?? true
        }
    }

    /// The integration's ingested log lines, oldest first.
    func logs(_ identifier: String) throws(PortError) -> [JSONValue] {
        _ = try integration(identifier)
        return state.withLock { $0.logs[identifier] ?? [] }
    }

    /// Forgets every integration (`POST /_emulator/reset`).
    func reset() { state.withLock { $0 = State() } }

    private func update(
        _ identifier: String,
        by client: String,
        _ body: (inout JSONObject, inout State) -> Void
    ) throws(PortError) -> JSONObject {
        try state.withLock { (state) throws(PortError) -> JSONObject in
            guard var record = state.records[identifier] else { throw Self.notFound(identifier) }
            body(&record, &state)
            record["updatedAt"] = PortTimestamp.format(Date())
            record["updatedBy"] = .string(client)
            state.records[identifier] = record
            return record
        }
    }

    /// Members the emulator keeps itself.
    private static let managed: Set<String> = [
        "identifier", "installationId", "createdAt", "createdBy", "updatedAt", "updatedBy", "resyncState",
        "logAttributes", "metricAttributes",
    ]

    private static func notFound(_ identifier: String) -> PortError {
        PortError(
            status: 404,
            code: "not_found",
            message: "Integration \"\(identifier)\" was not found",
            rule: "integration-exists"
        )
    }
}
