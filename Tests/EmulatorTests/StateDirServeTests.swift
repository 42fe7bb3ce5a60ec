import ChildProcesses
import Emulator
import Foundation
import PortContract
import Synchronization
import TestSupport
import Testing

/// `serve --state-dir` through the real executable: killed with SIGKILL in the middle of a
/// burst of writes, it comes back with everything it answered; a state it must not read is
/// refused before anything is written.
@Suite("serve --state-dir survives kill -9 and refuses a newer state", .heavy, .timeLimit(.minutes(10)))
struct StateDirServeTests {
    /// A running `serve` and its API's port.
    struct Serve {
        let process: ChildProcess
        let client: JSONTestClient
        let log: String
    }

    /// Starts `serve` on `directory` until its ready line; `nil` (with its output) when it
    /// ended first.
    static func start(
        _ directory: String,
        in sandbox: CASandbox,
        extra: [String] = []
    ) async throws -> (serve: Serve?, output: String) {
        let log = sandbox.root + "/serve-\(UUID().uuidString).log"
        // Bounded by timeout(1): a test process that dies leaves no serve behind. A signal
        // goes to the whole process group, the emulator included.
        let process = try ChildProcess.spawn(
            ["timeout", "300", EmulatorExecutable.path, "serve", "--port", "0", "--fixtures"]
                + [EmulatorHarness.fixturesDirectory, "--state-dir", directory] + extra,
            environment: sandbox.environment,
            outputPath: log
        )
        try await waitUntil("serve's ready line or its end", within: .seconds(60)) {
            process.termination != nil || (sandbox.contents(log) ?? "").contains("port-emulator ready:")
        }
        let output = sandbox.contents(log) ?? ""
        guard output.contains("port-emulator ready:"),
            let api = output.split(separator: " ").first(where: { $0.hasPrefix("api=") })
        else {
            process.signal(SIGKILL)
            return (nil, output)
        }
        return (Serve(process: process, client: JSONTestClient(baseURL: String(api.dropFirst(4))), log: log), output)
    }

    /// The ledger the writers share.
    final class LedgerBox: Sendable {
        private let ledger = Mutex(Ledger())

        func withLock<Result: Sendable>(_ body: (inout Ledger) -> Result) -> Result { ledger.withLock { body(&$0) } }
    }

    /// What the emulator answered with a 2xx, so must have after any restart.
    struct Ledger: Sendable {
        /// Entity identifier to its `cpu`.
        var entities: [String: Int] = [:]
        /// Run id to whether its `SUCCESS` was answered.
        var runs: [String: Bool] = [:]
        /// Run id to the log ids answered.
        var logs: [String: [String]] = [:]
        /// Setting to the highest value answered.
        var settings: [String: Int] = [:]
        var secrets: Set<String> = []
        /// Seconds of clock advances answered.
        var clockSeconds = 0
        /// Calls to Port's API answered (each is in the journal).
        var calls = 0
    }

    /// One writer's loop: entity, run, log, SUCCESS, setting, secret, clock; until the
    /// emulator stops answering. Every 2xx goes into `ledger`.
    static func write(
        _ client: JSONTestClient,
        token: String,
        writer: Int,
        cycle: Int,
        ledger: LedgerBox
    ) async {
        var round = 0
        while true {
            round += 1
            let tag = "c\(cycle)w\(writer)r\(round)"
            do {
                let entity = try await client.call(
                    "POST",
                    "/v1/blueprints/vm/entities?upsert=true",
                    token: token,
                    body: #"{"identifier": "\#(tag)", "properties": {"cpu": \#(round), "region": "eu"}}"#
                )
                guard (200..<300).contains(entity.status) else { return }
                ledger.withLock {
                    $0.entities[tag] = round
                    $0.calls += 1
                }
                let run = try await client.call(
                    "POST",
                    "/v1/actions/create_vm/runs",
                    token: token,
                    body: #"{"properties": {"name": "\#(tag)", "cpu": 1}}"#
                )
                guard run.status == 202, let id = run.json["run"]?["id"]?.stringValue else { return }
                ledger.withLock {
                    $0.runs[id] = false
                    $0.calls += 1
                }
                let log = try await client.call(
                    "POST",
                    "/v1/actions/runs/\(id)/logs",
                    token: token,
                    body: #"{"message": "\#(tag)"}"#
                )
                guard log.status == 201, let logID = log.json["runLog"]?["id"]?.stringValue else { return }
                ledger.withLock {
                    $0.logs[id, default: []].append(logID)
                    $0.calls += 1
                }
                let done = try await client.call(
                    "PATCH",
                    "/v1/actions/runs/\(id)",
                    token: token,
                    body: #"{"status": "SUCCESS"}"#
                )
                guard done.status == 200 else { return }
                ledger.withLock {
                    $0.runs[id] = true
                    $0.calls += 1
                }
                let setting = "w\(writer)"
                let organization = try await client.call(
                    "PATCH",
                    "/v1/organization",
                    token: token,
                    body: #"{"settings": {"\#(setting)": \#(cycle * 100_000 + round)}}"#
                )
                guard organization.status == 200 else { return }
                ledger.withLock {
                    $0.settings[setting] = max($0.settings[setting] ?? 0, cycle * 100_000 + round)
                    $0.calls += 1
                }
                let secret = try await client.call(
                    "POST",
                    "/v1/organization/secrets",
                    token: token,
                    body: #"{"secretName": "S_\#(tag)", "secretValue": "v"}"#
                )
                guard secret.status == 201 else { return }
                ledger.withLock {
                    $0.secrets.insert("S_\(tag)")
                    $0.calls += 1
                }
                let clock = try await client.call("POST", "/_emulator/clock", body: #"{"advance": "1s"}"#)
                guard clock.status == 200 else { return }
                ledger.withLock { $0.clockSeconds += 1 }
            } catch {
                return  // killed: what was in flight is unknown, either way is right
            }
        }
    }

    /// Everything `ledger` holds is in the emulator behind `client`.
    static func check(_ ledger: Ledger, _ client: JSONTestClient) async throws {
        let token = try await client.token(
            clientID: "emulator-client-id",
            clientSecret: EmulatorConfiguration.defaultClientSecret
        )
        let entities = try await client.call("GET", "/v1/blueprints/vm/entities", token: token)
        var cpus: [String: Int] = [:]
        for entity in entities.json["entities"]?.arrayValue ?? [] {
            if let identifier = entity["identifier"]?.stringValue, let cpu = entity["properties"]?["cpu"]?.intValue {
                cpus[identifier] = Int(cpu)
            }
        }
        let missingEntities = ledger.entities.filter { cpus[$0.key] != $0.value }.map(\.key).sorted()
        #expect(missingEntities == [], "\(missingEntities.count) of \(ledger.entities.count) entities")
        let runs = try await client.call("GET", "/_emulator/runs", token: nil)
        var statuses: [String: String] = [:]
        var logs: [String: Set<String>] = [:]
        for run in runs.json["runs"]?.arrayValue ?? [] {
            guard let id = run["id"]?.stringValue else { continue }
            statuses[id] = run["status"]?.stringValue
            logs[id] = Set((run["logs"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue })
        }
        for (id, finished) in ledger.runs {
            let status = statuses[id]
            #expect(status != nil, "run \(id) was answered 202 and is gone")
            if finished { #expect(status == "SUCCESS", "run \(id): SUCCESS was answered, it is \(status ?? "gone")") }
        }
        for (id, answered) in ledger.logs {
            #expect(Set(answered).isSubset(of: logs[id] ?? []), "run \(id)'s logs \(answered) answered")
        }
        let organization = try await client.call("GET", "/v1/organization", token: token)
        for (setting, value) in ledger.settings {
            let kept = organization.json["organization"]?["settings"]?[setting]?.intValue ?? 0
            #expect(kept >= value, "setting \(setting): \(value) answered, \(kept) kept")
        }
        let secrets = try await client.call("GET", "/v1/organization/secrets", token: token)
        let names = Set((secrets.json["secrets"]?.arrayValue ?? []).compactMap { $0["secretName"]?.stringValue })
        #expect(ledger.secrets.subtracting(names).isEmpty, "\(ledger.secrets.subtracting(names).count) secrets lost")
        let clock = try await client.call("GET", "/_emulator/clock", token: nil)
        let offset = clock.json["clock"]?["offsetSeconds"]?.doubleValue ?? 0
        #expect(offset >= Double(ledger.clockSeconds), "clock: \(ledger.clockSeconds) s answered, offset \(offset)")
        let journal = try await client.call("GET", "/_emulator/journal", token: nil)
        let entries = journal.json["journal"]?.arrayValue?.count ?? 0
        #expect(entries >= ledger.calls, "journal: \(ledger.calls) calls answered, \(entries) kept")
        let state = try await client.call("GET", "/_emulator/state", token: nil)
        let setAside = state.json["state"]?["loaded"]?["setAside"]?.arrayValue ?? []
        #expect(
            setAside.allSatisfy { $0.stringValue?.contains(".corrupt") == false },
            "a damaged record: \(state.json.compactText)"
        )
    }

    @Test("kill -9 in a burst of writes, three times: nothing answered is lost, nothing is corrupt")
    func killedInABurst() async throws {
        let sandbox = try CASandbox.make()
        defer { sandbox.remove() }
        let directory = sandbox.root + "/state"
        let ledger = LedgerBox()
        for cycle in 1...3 {
            // The second cycle compacts every 1 MiB, so that a kill can land in a compaction.
            let started = try await Self.start(
                directory,
                in: sandbox,
                extra: cycle == 2 ? ["--state-compact-mib", "1"] : []
            )
            let serve = try #require(started.serve, "cycle \(cycle): \(started.output)")
            defer { serve.process.signal(SIGKILL) }
            try await Self.check(ledger.withLock { $0 }, serve.client)
            let token = try await serve.client.token(
                clientID: "emulator-client-id",
                clientSecret: EmulatorConfiguration.defaultClientSecret
            )
            let answeredBefore = ledger.withLock { $0.calls }
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<6 {
                    group.addTask {
                        await Self.write(serve.client, token: token, writer: writer, cycle: cycle, ledger: ledger)
                    }
                }
                group.addTask {
                    // Killed once enough was answered, with requests in flight.
                    try? await waitUntil("writes answered", within: .seconds(120)) {
                        ledger.withLock { $0.calls } >= answeredBefore + 400 * cycle
                    }
                    serve.process.signal(SIGKILL)
                }
                await group.waitForAll()
            }
            try await waitUntil("serve ended", within: .seconds(30)) { serve.process.termination != nil }
        }
        let last = try await Self.start(directory, in: sandbox)
        let serve = try #require(last.serve, "\(last.output)")
        defer { serve.process.signal(SIGKILL) }
        let answered = ledger.withLock { $0 }
        #expect(answered.runs.count > 100, "\(answered.runs.count) runs")
        try await Self.check(answered, serve.client)
    }

    @Test("a state written by a newer version, or in a newer format, is refused; the directory is unchanged")
    func newerRefused() async throws {
        let sandbox = try CASandbox.make()
        defer { sandbox.remove() }
        let directory = sandbox.root + "/state"
        // A real state first.
        let first = try await Self.start(directory, in: sandbox)
        let serve = try #require(first.serve, "\(first.output)")
        _ = try await serve.client.call("POST", "/_emulator/clock", body: #"{"advance": "1h"}"#)
        serve.process.signal(SIGTERM)
        try await waitUntil("serve ended", within: .seconds(60)) { serve.process.termination != nil }

        let manifestPath = directory + "/state.json"
        let manifest = try JSONValue.parse(Array(try #require(sandbox.contents(manifestPath)).utf8))
        for (field, value, expected) in [
            ("writer", JSONValue.string("99.0.0"), "written by port-emulator 99.0.0"),
            ("format", JSONValue.int(99), "state format 99"),
        ] {
            guard case .object(var changed) = manifest else {
                Issue.record("state.json is not an object: \(manifest.compactText)")
                return
            }
            changed[field] = value
            try Data(JSONValue.object(changed).compactBytes).write(to: URL(fileURLWithPath: manifestPath))
            let before = try Self.contents(of: directory)
            let refused = try await Self.start(directory, in: sandbox)
            #expect(refused.serve == nil)
            #expect(refused.output.contains(expected), "\(refused.output)")
            #expect(refused.output.contains("this is \(HarnessVersion.current)"), "\(refused.output)")
            #expect(try Self.contents(of: directory) == before, "a refusal changed \(directory)")
        }
    }

    /// Every file's bytes in `directory` but the lock's (which names the last pid).
    static func contents(of directory: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: directory) where name != "LOCK" {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name))
        }
        return files
    }
}
