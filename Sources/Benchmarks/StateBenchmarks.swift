import Emulator
import Foundation
package import Logging
import PortCatalog
import PortContract
import StateLog

/// `serve --state-dir`'s restart (issue #28): a state of `entities` entities and `runs`
/// finished runs (two logs each) written through the stores' own paths, then `serve` timed
/// from spawn to its ready line on it: read from a snapshot (after a graceful stop), read
/// from the log alone (after `kill -9`, before any compaction), and without `--state-dir`.
package enum StateBenchmarks {
    /// What one run of the benchmark measured.
    package struct Result: Sendable {
        /// Spawn to ready on the snapshot, each round.
        package var fromSnapshot: [Duration] = []
        /// Spawn to ready on the log alone, each round.
        package var fromLog: [Duration] = []
        /// Spawn to ready without `--state-dir`, each round.
        package var without: [Duration] = []
        /// Writing the state through the stores.
        package var fill: Duration = .zero
        /// Writing the snapshot (a compaction).
        package var snapshotWrite: Duration = .zero
        /// The snapshot's bytes, and the log's before it.
        package var snapshotBytes = 0
        package var logBytes = 0
    }

    /// Builds the state in a temporary directory (in `keep` when given, and left there: its
    /// `live` holds the snapshot, `log-only.pristine` the log), then times `rounds` starts
    /// of each kind, interleaved.
    package static func restart(
        executable: String,
        fixtures: String,
        entities: Int,
        runs: Int,
        rounds: Int,
        keep: String? = nil,
        logger: Logger
    ) async throws -> Result {
        let root = keep ?? NSTemporaryDirectory() + "state-bench-\(UUID().uuidString)"
        defer { if keep == nil { try? FileManager.default.removeItem(atPath: root) } }
        let live = root + "/live"
        let logOnly = root + "/log-only"
        var result = Result()
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.fixtures = try Fixtures.load(from: fixtures)
        configuration.stateDirectory = live
        configuration.stateSync = .never
        configuration.finishedRunCapacity = max(runs, 1)
        configuration.stateCompactionBytes = Int.max / 2
        let clock = ContinuousClock()
        let timings = try await PortEmulator.withRunning(configuration: configuration, logger: logger) {
            emulator -> (Duration, Duration) in
            let started = clock.now
            try fill(emulator, entities: entities, runs: runs)
            let fill = clock.now - started
            guard let state = emulator.state else { throw BenchmarkError(message: "no state kept") }
            try state.log.flush()
            // The state as a kill -9 would leave it: the log, no snapshot.
            try FileManager.default.createDirectory(atPath: logOnly, withIntermediateDirectories: true)
            for name in try FileManager.default.contentsOfDirectory(atPath: live) where name != "LOCK" {
                try FileManager.default.copyItem(atPath: live + "/" + name, toPath: logOnly + "/" + name)
            }
            let compacting = clock.now
            try state.compact()
            return (fill, clock.now - compacting)
        }
        (result.fill, result.snapshotWrite) = timings
        result.logBytes = try bytes(in: logOnly, prefix: "log-")
        result.snapshotBytes = try bytes(in: live, prefix: "snapshot-")
        let pristine = root + "/log-only.pristine"
        try FileManager.default.moveItem(atPath: logOnly, toPath: pristine)
        func ready(_ arguments: [String]) async throws -> Duration {
            try await EmulatorBenchmarks.spawnToReady(
                executable: executable,
                arguments: ["--fixtures", fixtures] + arguments,
                logger: logger
            ).ready
        }
        for _ in 0..<rounds {
            result.fromSnapshot.append(try await ready(["--state-dir", live]))
            // A start on the log compacts it afterwards: each round starts from a copy.
            try? FileManager.default.removeItem(atPath: logOnly)
            try FileManager.default.copyItem(atPath: pristine, toPath: logOnly)
            result.fromLog.append(try await ready(["--state-dir", logOnly]))
            result.without.append(try await ready([]))
        }
        return result
    }

    /// Writes `entities` entities of the fixtures' `vm` blueprint (bulk writes of 1,000) and
    /// `runs` runs of `create_vm`, each with two logs and then `SUCCESS`.
    private static func fill(_ emulator: PortEmulator, entities: Int, runs: Int) throws {
        let models = emulator.catalog.models
        guard let model = models["vm"] else { throw BenchmarkError(message: "the fixtures have no vm blueprint") }
        let options = EntityWriteOptions(mode: .create(upsert: true, merge: false), client: "bench")
        var written = 0
        while written < entities {
            let count = min(1000, entities - written)
            let bodies = try (written..<(written + count)).map { index in
                var properties = JSONObject()
                properties["cpu"] = .int(Int64(index % 64))
                properties["region"] = .string(index % 2 == 0 ? "eu-west-1" : "us-east-1")
                properties["memoryGiB"] = .int(Int64(index % 32))
                properties["image"] = "debian-12"
                properties["tags"] = .array(["bench", .string("rack-\(index % 100)")])
                var body = JSONObject()
                body["identifier"] = .string("vm-\(index)")
                body["title"] = .string("VM \(index)")
                body["properties"] = .object(properties)
                return try EntityBody(body: .object(body))
            }
            for outcome in try emulator.runs.writeEntities(bodies, of: model, models: models, options: options) {
                _ = try outcome.get()
            }
            written += count
        }
        let action = RunActionInfo(identifier: "create_vm", title: "Create VM", icon: "Server")
        for index in 0..<runs {
            let run = emulator.runs.create(
                NewRun(
                    action: action,
                    blueprintIdentifier: "vm",
                    blueprintTitle: "Virtual machine",
                    entityIdentifier: nil,
                    entityTitle: nil,
                    properties: ["name": .string("vm-\(index)"), "cpu": 2, "region": "eu-west-1"],
                    requiredApproval: false,
                    synchronized: false,
                    source: .api,
                    createdBy: "bench"
                )
            )
            _ = try emulator.runs.appendLog(run.id, RunLogRequest(message: "provisioning vm-\(index)"), by: "bench")
            _ = try emulator.runs.appendLog(run.id, RunLogRequest(message: "vm-\(index) is up"), by: "bench")
            _ = try emulator.runs.patch(run.id, RunPatch(status: .success, summary: "created vm-\(index)"), by: "bench")
        }
    }

    private static func bytes(in directory: String, prefix: String) throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(prefix) }.reduce(0) {
            total,
            name in
            let attributes = try FileManager.default.attributesOfItem(atPath: directory + "/" + name)
            return total + ((attributes[.size] as? NSNumber)?.intValue ?? 0)
        }
    }
}
