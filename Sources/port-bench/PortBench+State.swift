import ArgumentParser
import Benchmarks

extension PortBench {
    struct StateRestart: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "state-restart",
            abstract: "Time `serve --state-dir` from spawn to ready on a state of N entities and M finished runs.",
            discussion:
                "The state is written through the stores' own paths, then each round starts serve on its snapshot, "
                + "on its log alone (as kill -9 leaves it) and without --state-dir, and prints the medians."
        )

        @Option(help: "The port-emulator executable.")
        var executable = ".build/release/port-emulator"

        @Option(help: "Fixtures directory to load (as serve would).")
        var fixtures = "fixtures"

        @Option(help: "Entities in the state.")
        var entities = 100_000

        @Option(help: "Finished runs in the state, two logs each.")
        var runs = 10_000

        @Option(help: "Starts of each kind.")
        var rounds = 5

        @Option(help: "Build the state in this new directory and leave it there (to profile a start on it).")
        var keep: String?

        func validate() throws {
            guard entities >= 0, runs >= 0, rounds >= 1 else {
                throw ValidationError("--entities and --runs must be at least 0, --rounds at least 1")
            }
        }

        func run() async throws {
            let result = try await StateBenchmarks.restart(
                executable: executable,
                fixtures: fixtures,
                entities: entities,
                runs: runs,
                rounds: rounds,
                keep: keep,
                logger: quietLogger
            )
            func summary(_ durations: [Duration]) -> String {
                let sorted = durations.map(\.milliseconds).sorted()
                return
                    "\(format(sorted.percentile(0.5)))[\(format(sorted.percentile(0)))-\(format(sorted.percentile(1)))]"
            }
            print(
                "state-restart entities=\(entities) runs=\(runs) "
                    + "snapshot_mib=\(format(Double(result.snapshotBytes) / 1_048_576)) "
                    + "log_mib=\(format(Double(result.logBytes) / 1_048_576)) "
                    + "fill_s=\(format(result.fill.milliseconds / 1000, 2)) "
                    + "snapshot_write_ms=\(format(result.snapshotWrite.milliseconds)) "
                    + "ready_ms_from_snapshot=\(summary(result.fromSnapshot)) "
                    + "ready_ms_from_log=\(summary(result.fromLog)) "
                    + "ready_ms_without_state=\(summary(result.without))"
            )
        }
    }
}
