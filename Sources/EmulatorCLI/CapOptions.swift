import ArgumentParser
package import Emulator

/// The caps on what the emulator keeps (`serve` and `verify`): the journal of API calls
/// and refused requests, the finished runs, and the embedded Kafka's messages. Past a cap the oldest entries go and are
/// counted where the journal and the runs are read; a run in progress, waiting for
/// approval or waited on is never evicted.
package struct CapOptions: ParsableArguments, Sendable {
    /// The defaults.
    package init() {}

    @Option(
        name: .customLong("max-journal-entries"),
        help: ArgumentHelp(
            "API calls the journal keeps, and refused requests the violations list keeps; the oldest go first.",
            valueName: "count"
        )
    )
    package var journalEntries = CallRecorder.defaultCapacity

    @Option(
        name: .customLong("max-finished-runs"),
        help: ArgumentHelp(
            "Finished runs kept, with their logs and messages; the oldest go first. Runs in progress, waiting for "
                + "approval or waited on are never evicted.",
            valueName: "count"
        )
    )
    package var finishedRuns = RunStore.defaultFinishedRunCapacity

    @Option(
        name: .customLong("kafka-retention-mib"),
        help: ArgumentHelp(
            "Each partition of the embedded Kafka keeps its newest N MiB of messages (Kafka's retention.bytes); "
                + "a consumer further behind is answered OFFSET_OUT_OF_RANGE, as Port's brokers would.",
            valueName: "N"
        )
    )
    package var kafkaRetentionMiB = EmulatorConfiguration.defaultKafkaRetentionBytes >> 20

    /// Whether a cap differs from its default.
    package var isChanged: Bool {
        journalEntries != CallRecorder.defaultCapacity || finishedRuns != RunStore.defaultFinishedRunCapacity
            || kafkaRetentionMiB != EmulatorConfiguration.defaultKafkaRetentionBytes >> 20
    }

    /// Each cap is at least 1.
    package func validate() throws {
        if journalEntries < 1 {
            throw ValidationError("--max-journal-entries must be at least 1 (got \(journalEntries))")
        }
        if finishedRuns < 1 { throw ValidationError("--max-finished-runs must be at least 1 (got \(finishedRuns))") }
        if kafkaRetentionMiB < 1 || kafkaRetentionMiB > 1 << 20 {
            throw ValidationError("--kafka-retention-mib must be from 1 to 1048576 (got \(kafkaRetentionMiB))")
        }
    }

    /// Sets the caps on `configuration`.
    package func apply(to configuration: inout EmulatorConfiguration) {
        configuration.journalCapacity = journalEntries
        configuration.finishedRunCapacity = finishedRuns
        configuration.kafkaRetentionBytes = kafkaRetentionMiB << 20
    }
}
