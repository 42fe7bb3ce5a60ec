package import ArgumentParser
package import Emulator

/// `serve`'s state between starts: where it is kept, and when it reaches the disk.
package struct StateOptions: ParsableArguments, Sendable {
    /// The defaults: no state kept.
    package init() {}

    @Option(
        name: .customLong("state-dir"),
        help: ArgumentHelp(
            "Keep the state here between starts: catalog, runs and their logs, journal, organization, teams, "
                + "secrets' names (never their values) and the clock. Created when missing.",
            discussion: "Without it nothing is written, and every start begins from the fixtures.",
            valueName: "dir"
        )
    )
    package var directory: String?

    @Option(
        name: .customLong("state-sync"),
        help: ArgumentHelp(
            "When --state-dir's changes reach the disk: batch (written before each answer, synced every 100 ms), "
                + "always (synced before each answer) or never (written, never synced).",
            valueName: "policy"
        )
    )
    package var sync: String?

    @Option(
        name: .customLong("state-compact-mib"),
        help: ArgumentHelp(
            "Replace --state-dir's log with a snapshot once it holds N MiB of changes.",
            valueName: "N"
        )
    )
    package var compactMiB: Int?

    /// The policy and the threshold need a directory; the policy must be one of three.
    package func validate() throws {
        if directory == nil, sync != nil || compactMiB != nil {
            throw ValidationError("--state-sync and --state-compact-mib need --state-dir")
        }
        if let directory, directory.isEmpty { throw ValidationError("--state-dir must not be empty") }
        if let sync, StateSyncPolicy(rawValue: sync) == nil {
            throw ValidationError("--state-sync must be batch, always or never (got \(sync))")
        }
        if let compactMiB, compactMiB < 1 || compactMiB > 1 << 20 {
            throw ValidationError("--state-compact-mib must be from 1 to 1048576 (got \(compactMiB))")
        }
    }

    /// Sets the state's settings on `configuration`.
    package func apply(to configuration: inout EmulatorConfiguration) {
        configuration.stateDirectory = directory
        configuration.stateSync = sync.flatMap(StateSyncPolicy.init(rawValue:)) ?? .batch
        if let compactMiB { configuration.stateCompactionBytes = compactMiB << 20 }
    }
}
