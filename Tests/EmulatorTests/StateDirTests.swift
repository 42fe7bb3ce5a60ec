import Emulator
import Foundation
import PortCatalog
import PortContract
import TestSupport
import Testing

/// `--state-dir`, in process: what one emulator kept is what the next one on the directory
/// starts with, whether it reads the log or a snapshot, and a reset is kept too.
@Suite("serve --state-dir keeps the state between starts", .heavy, .timeLimit(.minutes(10)))
struct StateDirTests {
    /// What a restart must keep, read from the emulator's stores and Port's API.
    struct Kept: Equatable, CustomStringConvertible {
        /// Each run as its state record (every field but the delivered message) and the
        /// entities it changed.
        var runs: [JSONValue]
        var affected: [[AffectedEntity]]
        var runStatuses: [RunStatus]
        var logs: [String: [RunLog]]
        var evicted: Int
        var entities: [Entity]
        var blueprints: [JSONValue]
        var actions: [JSONValue]
        var organization: JSONValue
        var secrets: JSONValue
        var teams: JSONValue
        var users: JSONValue
        var clockOffset: JSONValue
        var journal: [JournalEntry]
        var violations: [Violation]
        /// The consumer's token: the one issued before the restart is still the active one.
        var token: String

        var description: String {
            "\(runs.count) runs, \(entities.count) entities, \(blueprints.count) blueprints, journal \(journal.count)"
        }

        /// The names of the fields that differ from `other`'s, with both values.
        func differences(from other: Kept) -> [String] {
            var found: [String] = []
            func check<Value: Equatable>(_ name: String, _ path: KeyPath<Kept, Value>) {
                if self[keyPath: path] != other[keyPath: path] {
                    found.append("\(name): \(self[keyPath: path]) != \(other[keyPath: path])")
                }
            }
            if runs != other.runs {
                for (mine, theirs) in zip(runs, other.runs) where mine != theirs {
                    let keys = Set(mine.objectValue?.keys ?? []).union(theirs.objectValue?.keys ?? [])
                    for key in keys.sorted() where mine[key] != theirs[key] {
                        found.append(
                            "run \(mine["id"]?.stringValue ?? "?").\(key): \(mine[key]?.compactText ?? "-") != \(theirs[key]?.compactText ?? "-")"
                        )
                    }
                }
                if runs.count != other.runs.count { found.append("runs: \(runs.count) != \(other.runs.count)") }
            }
            check("affected", \.affected)
            check("logs", \.logs)
            check("evicted", \.evicted)
            check("entities", \.entities)
            check("blueprints", \.blueprints)
            check("actions", \.actions)
            check("organization", \.organization)
            check("secrets", \.secrets)
            check("teams", \.teams)
            check("users", \.users)
            check("clockOffset", \.clockOffset)
            check("journal", \.journal)
            check("violations", \.violations)
            check("token", \.token)
            return found
        }
    }

    static func kept(_ emulator: PortEmulator, _ client: JSONTestClient, token: String) async throws -> Kept {
        // The delivered message is not kept (a template may render secrets into it).
        let runs = emulator.runs.runs
        var logs: [String: [RunLog]] = [:]
        for run in runs { logs[run.id] = try emulator.runs.logs(run.id) }
        let clock = try await client.call("GET", "/_emulator/clock", token: nil)
        return Kept(
            runs: runs.map(\.stateJSON),
            affected: runs.map(\.affectedEntities),
            runStatuses: runs.map(\.status),
            logs: logs,
            evicted: emulator.runs.evictedRuns,
            entities: emulator.runs.entityStore.inCreationOrder,
            blueprints: emulator.catalog.blueprints.map { .object($0.definition) },
            actions: emulator.catalog.actions.map { .object($0.definition) },
            organization: try await client.call("GET", "/v1/organization", token: token).json,
            secrets: try await client.call("GET", "/v1/organization/secrets", token: token).json,
            teams: try await client.call("GET", "/v1/teams", token: token).json,
            users: try await client.call("GET", "/v1/users", token: token).json,
            clockOffset: clock.json["clock"]?["offsetSeconds"] ?? .null,
            journal: emulator.recorder.journal,
            violations: emulator.recorder.violations,
            token: token
        )
    }

    static func configuration(_ directory: String) throws -> EmulatorConfiguration {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.fixtures = try Fixtures.load(from: EmulatorHarness.fixturesDirectory)
        configuration.stateDirectory = directory
        configuration.stateSync = .never
        configuration.finishedRunCapacity = 3
        return configuration
    }

    /// Runs `body` in an emulator on `directory` with a token, and returns what it kept then.
    static func session(
        _ configuration: EmulatorConfiguration,
        _ body: @escaping @Sendable (PortEmulator, JSONTestClient, String) async throws -> Void = { _, _, _ in }
    ) async throws -> Kept {
        try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            let client = JSONTestClient(baseURL: emulator.info.apiBaseURL)
            let token = try await client.token(
                clientID: "emulator-client-id",
                clientSecret: EmulatorConfiguration.defaultClientSecret
            )
            try await body(emulator, client, token)
            return try await kept(emulator, client, token: token)
        }
    }

    /// Changes of every kept kind: a blueprint, entities (one written for a run, one
    /// deleted), runs (logged, approved, declined, finished, evicted), the organization, a
    /// secret, the clock, a team, a refused request.
    static func changeEverything(_ emulator: PortEmulator, _ client: JSONTestClient, _ token: String) async throws {
        func call(
            _ method: String,
            _ path: String,
            _ body: String? = nil,
            expect status: Int = 200
        ) async throws
            -> JSONValue
        {
            let answer = try await client.call(method, path, token: token, body: body)
            #expect(answer.status == status, "\(method) \(path): \(answer.json.compactText)")
            return answer.json
        }
        _ = try await call(
            "POST",
            "/v1/blueprints",
            #"{"identifier": "bucket", "title": "Bucket", "schema": {"properties": {"size": {"type": "number"}}}}"#,
            expect: 201
        )
        for index in 0..<20 {
            _ = try await call(
                "POST",
                "/v1/blueprints/bucket/entities",
                #"{"identifier": "b\#(index)", "properties": {"size": \#(index)}}"#,
                expect: 201
            )
        }
        _ = try await call("DELETE", "/v1/blueprints/bucket/entities/b3")
        for index in 0..<5 {
            let run = try await call(
                "POST",
                "/v1/actions/create_vm/runs",
                #"{"properties": {"name": "vm-\#(index)", "cpu": 2}}"#,
                expect: 202
            )
            let id = try #require(run["run"]?["id"]?.stringValue)
            _ = try await call("POST", "/v1/actions/runs/\(id)/logs", #"{"message": "step \#(index)"}"#, expect: 201)
            _ = try await call(
                "POST",
                "/v1/blueprints/vm/entities?upsert=true&run_id=\(id)",
                #"{"identifier": "vm-\#(index)", "properties": {"cpu": 2, "region": "eu"}}"#,
                expect: 201
            )
            if index < 4 { _ = try await call("PATCH", "/v1/actions/runs/\(id)", #"{"status": "SUCCESS"}"#) }
        }
        for decision in [true, false] {
            let run = try await call(
                "POST",
                "/v1/actions/resize_vm/runs",
                #"{"entity": "vm-0", "properties": {"cpu": 4}}"#,
                expect: 202
            )
            let id = try #require(run["run"]?["id"]?.stringValue)
            _ = try await call(
                "PATCH",
                "/v1/actions/runs/\(id)/approval",
                #"{"status": "\#(decision ? "APPROVE" : "DECLINE")"}"#,
                expect: 201
            )
        }
        _ = try await call("PATCH", "/v1/organization", #"{"settings": {"portAgentStreamerName": "KAFKA", "k": 1}}"#)
        _ = try await call(
            "POST",
            "/v1/organization/secrets",
            #"{"secretName": "API_KEY", "secretValue": "s3cr3t"}"#,
            expect: 201
        )
        _ = try await call("POST", "/v1/teams", #"{"name": "platform", "description": "Platform"}"#)
        _ = try await client.call("POST", "/_emulator/clock", token: nil, body: #"{"advance": "2h"}"#)
        _ = try await call("GET", "/v1/blueprints/nope", expect: 404)
        // A timer that has passed fires its automation once: a run.
        let before = emulator.runs.runs.count
        _ = try await call(
            "POST",
            "/v1/blueprints/environment/entities",
            #"{"identifier": "preview-1", "properties": {"ttl": "2020-01-01T00:00:00.000Z"}}"#,
            expect: 201
        )
        _ = try await client.call("POST", "/_emulator/clock", token: nil, body: #"{"advance": "1s"}"#)
        try await waitUntil("the timer's automation ran", within: .seconds(30)) {
            emulator.runs.runs.count > before
        }
        // Every run's invocation is out before the state is read, so none changes after.
        try await waitUntil("every run delivered or waiting", within: .seconds(60)) {
            emulator.runs.runs.allSatisfy { $0.delivery != nil || $0.status != .inProgress }
        }
    }

    @Test("a restart keeps every kind of change, read from the log and then from a snapshot")
    func roundTrip() async throws {
        let directory = NSTemporaryDirectory() + "state-dir-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = try Self.configuration(directory)

        let first = try await Self.session(configuration) { emulator, client, token in
            try await Self.changeEverything(emulator, client, token)
        }
        // 4 finished, 1 declined: the oldest 2 go past the cap of 3.
        #expect(first.evicted == 2, "\(first)")
        #expect(first.runStatuses.contains(.declined), "\(first.runStatuses)")
        #expect(first.affected.contains { !$0.isEmpty })
        #expect(first.entities.contains { $0.identifier == "b3" } == false)
        #expect(first.violations.count == 1)

        // The second start replays the log (and then compacts it in the background).
        var second = try await Self.session(configuration) { emulator, client, _ in
            // The clock's move checks the timers at once: the one that fired does not again.
            _ = try await client.call("POST", "/_emulator/clock", token: nil, body: #"{"advance": "0s"}"#)
            let state = try await client.call("GET", "/_emulator/state", token: nil)
            #expect(state.json["state"]?["loaded"]?["logRecords"]?.intValue ?? 0 > 0, "\(state.json.compactText)")
            try await waitUntil("the log compacted", within: .seconds(60)) {
                let state = try await client.call("GET", "/_emulator/state", token: nil)
                return state.json["state"]?["compactions"]?.intValue ?? 0 >= 1
            }
        }
        // Its own calls come after the first's.
        #expect(Array(second.journal.prefix(first.journal.count)) == first.journal)
        second.journal = first.journal
        #expect(second.differences(from: first) == [])

        // The third reads the snapshot, then the second's log (its journal entries).
        var third = try await Self.session(configuration) { _, client, _ in
            let state = try await client.call("GET", "/_emulator/state", token: nil)
            #expect(state.json["state"]?["loaded"]?["snapshotRecords"]?.intValue ?? 0 > 0, "\(state.json.compactText)")
        }
        #expect(Array(third.journal.prefix(first.journal.count)) == first.journal)
        third.journal = first.journal
        #expect(third.differences(from: first) == [])
    }

    @Test("without a state directory nothing is kept: no log, and GET /_emulator/state says how to keep it")
    func withoutStateDirectory() async throws {
        var configuration = try Self.configuration("unused")
        configuration.stateDirectory = nil
        try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            #expect(emulator.state == nil)
            let client = JSONTestClient(baseURL: emulator.info.apiBaseURL)
            let state = try await client.call("GET", "/_emulator/state", token: nil)
            #expect(state.status == 404)
            #expect(state.json["message"]?.stringValue?.contains("--state-dir") == true, "\(state.json.compactText)")
        }
        #expect(!FileManager.default.fileExists(atPath: "unused"))
    }

    @Test("a reset is kept: the next start begins from the fixtures")
    func resetKept() async throws {
        let directory = NSTemporaryDirectory() + "state-dir-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let configuration = try Self.configuration(directory)
        let fresh = try await Self.session(configuration)
        _ = try await Self.session(configuration) { emulator, client, token in
            try await Self.changeEverything(emulator, client, token)
            _ = try await client.call("POST", "/_emulator/reset", token: nil, body: "{}")
        }
        let after = try await Self.session(configuration)
        #expect(after.runs.isEmpty)
        #expect(after.entities == fresh.entities)
        // Fixtures are stamped at each start: the same blueprints, with this start's dates.
        #expect(after.blueprints.map { $0["identifier"] } == fresh.blueprints.map { $0["identifier"] })
        #expect(after.organization["organization"]?["settings"] == [:])
        #expect(after.secrets == fresh.secrets)
        #expect(after.clockOffset == fresh.clockOffset)
    }

    @Test("compactions while clients write lose nothing: each store's records after its copy are applied")
    func compactionUnderWrites() async throws {
        let directory = NSTemporaryDirectory() + "state-dir-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var configuration = try Self.configuration(directory)
        configuration.finishedRunCapacity = 1000
        // A compaction at every check (every 100 ms) while the writes go on.
        configuration.stateCompactionBytes = 1
        let first = try await Self.session(configuration) { emulator, client, token in
            _ = try await client.call(
                "POST",
                "/v1/blueprints",
                token: token,
                body:
                    #"{"identifier": "bucket", "title": "Bucket", "schema": {"properties": {"size": {"type": "number"}}}}"#
            )
            var compactions = 0
            var index = 0
            while compactions < 3 || index < 200 {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for writer in 0..<4 {
                        group.addTask { [index] in
                            let answer = try await client.call(
                                "POST",
                                "/v1/blueprints/bucket/entities?upsert=true",
                                token: token,
                                body: #"{"identifier": "w\#(writer)", "properties": {"size": \#(index)}}"#
                            )
                            #expect(answer.status == 200 || answer.status == 201, "\(answer.json.compactText)")
                            let run = try await client.call(
                                "POST",
                                "/v1/actions/create_vm/runs",
                                token: token,
                                body: #"{"properties": {"name": "vm", "cpu": \#(index)}}"#
                            )
                            let id = run.json["run"]?["id"]?.stringValue ?? ""
                            _ = try await client.call(
                                "PATCH",
                                "/v1/actions/runs/\(id)",
                                token: token,
                                body: #"{"status": "SUCCESS"}"#
                            )
                        }
                    }
                    try await group.waitForAll()
                }
                index += 1
                let state = try await client.call("GET", "/_emulator/state", token: nil)
                compactions = Int(state.json["state"]?["compactions"]?.intValue ?? 0)
                if index > 5000 {
                    Issue.record("no compaction after \(index) rounds: \(state.json.compactText)")
                    break
                }
            }
            try await waitUntil("every run delivered or finished", within: .seconds(60)) {
                emulator.runs.runs.allSatisfy { $0.delivery != nil || $0.status != .inProgress }
            }
        }
        var second = try await Self.session(configuration)
        #expect(Array(second.journal.prefix(first.journal.count)) == first.journal)
        second.journal = first.journal
        #expect(second.differences(from: first) == [])
    }
}
