import Emulator
import Foundation
package import Logging
import PortCatalog
import PortContract

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Automation fan-out: entity writes through Port's API while automations are defined, and
/// how soon an automation's message is on Kafka after the write that fired it.
package enum AutomationBenchmarks {
    /// How many automations are defined, and whether a write fires one of them.
    package enum Setup: String, Sendable, CaseIterable {
        /// No automation: the baseline.
        case none
        /// `count` automations on the blueprint whose conditions never hold: every write is
        /// evaluated against each, none fires.
        case defined
        /// `count` automations, and each write fires exactly one of them (a run, its message).
        case firing
    }

    /// Writes per second, and write-to-message latencies when automations fire.
    package struct Figures: Sendable {
        /// Entity writes answered per second, `concurrency` at a time.
        package let writesPerSecond: Double
        /// From the write's start to the automation's message read on Kafka, sorted (empty
        /// unless automations fire).
        package let latencies: [Duration]
    }

    /// `count` automations on ENTITY_CREATED of `bench_service`: number `i` fires when
    /// `.diff.after.properties.shard == i` (`firing`), or on shard -1 (`defined`: never).
    static func definitions(_ setup: Setup, count: Int) throws -> [ActionDefinition] {
        guard setup != .none else { return [] }
        return try (0..<count).map { index in
            let shard = setup == .firing ? index : -1
            return try ActionDefinition(
                definition: JSONValue.parse(
                    #"""
                    {"identifier":"bench_automation_\#(index)","trigger":{"type":"automation",
                      "event":{"type":"ENTITY_CREATED","blueprintIdentifier":"bench_service"},
                      "condition":{"type":"JQ","expressions":[".diff.after.properties.shard == \#(shard)",
                        ".diff.after.properties.region != null"],"combinator":"and"}},
                     "invocationMethod":{"type":"KAFKA","payload":{"runId":"{{ .run.id }}",
                       "entity":"{{ .event.diff.after.identifier }}","region":"{{ .event.diff.after.properties.region }}"}}}
                    """#
                )
            )
        }
    }

    /// `writes` entity creations (`concurrency` in flight) with the setup's automations,
    /// then, when they fire, `samples` creations one after another, each timed from its
    /// request to its automation's message read through the Kafka front.
    package static func fanOut(
        _ setup: Setup,
        automations count: Int,
        writes: Int,
        concurrency: Int,
        samples: Int,
        logger: Logger
    ) async throws -> Figures {
        try await InvocationBenchmarks.withEmulator(fetchWait: .milliseconds(10), logger: logger) { emulator, tracker in
            try emulator.catalog.add(
                Blueprint(
                    definition: JSONValue.parse(
                        #"{"identifier":"bench_service","schema":{"properties":{"shard":{"type":"number"},"region":{"type":"string"}}}}"#
                    )
                ),
                by: "bench"
            )
            for definition in try definitions(setup, count: count) { try emulator.catalog.add(definition, by: "bench") }
            let token = try await accessToken(emulator)
            let url = URL(string: emulator.info.apiURL + "/blueprints/bench_service/entities")!
            @Sendable func create(_ identifier: String, shard: Int) async throws {
                var request = URLRequest(url: url)
                request.httpMethod = "POST"
                request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
                request.httpBody = Data(
                    #"{"identifier":"\#(identifier)","properties":{"shard":\#(shard),"region":"eu"}}"#.utf8
                )
                let (_, response) = try await URLSession.shared.data(for: request)
                guard (response as? HTTPURLResponse)?.statusCode == 201 else {
                    throw BenchmarkError(message: "an entity write answered \(String(describing: response))")
                }
            }
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<writes {
                    if index >= concurrency { try await group.next() }
                    group.addTask { try await create("w-\(index)", shard: index % max(count, 1)) }
                }
                try await group.waitForAll()
            }
            let writesPerSecond = Double(writes) / (ContinuousClock.now - started).seconds
            guard setup == .firing else { return Figures(writesPerSecond: writesPerSecond, latencies: []) }
            try await tracker.waitForCount(writes, within: .seconds(120))
            var latencies: [Duration] = []
            for index in 0..<samples {
                let before = emulator.runs.runs.count
                let begin = ContinuousClock.now
                try await create("l-\(index)", shard: index % count)
                let runs = emulator.runs.runs
                guard runs.count == before + 1, let run = runs.last else {
                    throw BenchmarkError(message: "the write fired \(runs.count - before) automations, not 1")
                }
                latencies.append(try await tracker.arrival(of: run.id, within: .seconds(10)) - begin)
            }
            return Figures(writesPerSecond: writesPerSecond, latencies: latencies.sorted())
        }
    }

    static func accessToken(_ emulator: PortEmulator) async throws -> String {
        var request = URLRequest(url: URL(string: emulator.info.apiURL + "/auth/access_token")!)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = JSONValue.object([
            "clientId": .string(emulator.info.clientID), "clientSecret": .string(emulator.info.clientSecret),
        ]).compactText.data(using: .utf8)
        let (data, _) = try await URLSession.shared.data(for: request)
        guard let token = try JSONValue.parse(Array(data))["accessToken"]?.stringValue else {
            throw BenchmarkError(message: "no access token")
        }
        return token
    }
}
