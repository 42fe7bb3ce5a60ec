import ArgumentParser
import Emulator
import EmulatorCLI
import Testing

/// `serve`'s flags as the command line gives them: each bad flag is one message naming it.
@Suite("ServeOptions: serve's flags checked and turned into a configuration", .timeLimit(.minutes(10)))
struct ServeOptionsTests {
    @Test(
        "a bad option is refused with a message naming the flag",
        arguments: [
            (["--api-latency", "soon"], "The value 'soon' is invalid for '--api-latency <duration>'"),
            (["--token-ttl", "3 hours"], "The value '3 hours' is invalid for '--token-ttl <duration>'"),
            (["--publish-timeout", "x"], "The value 'x' is invalid for '--publish-timeout <duration>'"),
            (["--secret", "TOKEN"], "--secret 'TOKEN…' is not NAME=VALUE"),
            (["--kafka-acls", "maybe"], "The value 'maybe' is invalid for '--kafka-acls <kafka-acls>'"),
            (
                ["--kafka-initial-rebalance-delay", "later"],
                "The value 'later' is invalid for '--kafka-initial-rebalance-delay <duration>'"
            ),
            (["--kafka-idle-timeout", "0s"], "--kafka-idle-timeout '0s' must be above zero"),
            (["--kafka-security-protocol", "tls"], "The value 'tls' is invalid for '--kafka-security-protocol"),
            (
                ["--kafka-ca-location", "/ca.pem"],
                "--kafka-security-protocol and --kafka-*-location need --kafka-bootstrap"
            ),
            (
                ["--kafka-bootstrap", "broker:9092", "--kafka-port", "9092"],
                "are for the embedded Kafka; with --kafka-bootstrap the real broker's own security and ACLs apply"
            ),
            (["--partitions", "0"], "partitions"),
            (["--max-journal-entries", "0"], "--max-journal-entries must be at least 1 (got 0)"),
            (["--max-finished-runs=-3"], "--max-finished-runs must be at least 1 (got -3)"),
            (["--max-finished-runs", "many"], "--max-finished-runs"),
            (["--kafka-retention-mib", "0"], "--kafka-retention-mib must be from 1 to 1048576 (got 0)"),
        ]
    )
    func refused(arguments: [String], message: String) {
        let error = #expect(throws: (any Error).self) { try ServeOptions.parse(arguments) }
        let text = error.map { ServeOptions.message(for: $0) } ?? ""
        #expect(text.contains(message), "\(text)")
    }

    @Test(
        "the state's flags: a policy and a threshold need a directory; bad values name the flag",
        arguments: [
            (["--state-sync", "always"], "--state-sync and --state-compact-mib need --state-dir"),
            (["--state-compact-mib", "8"], "--state-sync and --state-compact-mib need --state-dir"),
            (
                ["--state-dir", "s", "--state-sync", "sometimes"],
                "--state-sync must be batch, always or never (got sometimes)"
            ),
            (
                ["--state-dir", "s", "--state-compact-mib", "0"],
                "--state-compact-mib must be from 1 to 1048576 (got 0)"
            ),
            (["--state-dir", ""], "--state-dir must not be empty"),
        ]
    )
    func stateRefused(arguments: [String], message: String) {
        let error = #expect(throws: (any Error).self) { try StateOptions.parse(arguments) }
        let text = error.map { StateOptions.message(for: $0) } ?? ""
        #expect(text.contains(message), "\(text)")
    }

    @Test("the state's flags set the configuration; without them nothing is kept")
    func stateApplied() throws {
        var configuration = EmulatorConfiguration()
        try StateOptions.parse([]).apply(to: &configuration)
        #expect(configuration.stateDirectory == nil)
        try StateOptions.parse(["--state-dir", "/tmp/s", "--state-sync", "always", "--state-compact-mib", "8"])
            .apply(to: &configuration)
        #expect(configuration.stateDirectory == "/tmp/s" && configuration.stateSync == .always)
        #expect(configuration.stateCompactionBytes == 8 << 20)
    }

    @Test("a closed set's error lists what it accepts")
    func closedSet() {
        let error = #expect(throws: (any Error).self) { try ServeOptions.parse(["--kafka-acls", "maybe"]) }
        let text = error.map { ServeOptions.fullMessage(for: $0) } ?? ""
        #expect(text.contains("'on'") && text.contains("'off'"), "\(text)")
    }

    @Test("the defaults make the emulator's default configuration; flags and KAFKA_PASSWORD carry over")
    func configuration() throws {
        let defaults = try ServeOptions.parse([])
        let standard = EmulatorConfiguration()
        let made = try defaults.configuration(environment: [:])
        #expect(made.port == 5100)
        #expect(made.tokenTTL == .seconds(10_800))
        #expect(made.publishTimeout == standard.publishTimeout)
        #expect(made.kafkaFront.initialRebalanceDelay == .seconds(3))
        #expect(made.kafkaFront.idleTimeout == .seconds(600))
        #expect(made.kafkaFront.acls)
        #expect(made.journalCapacity == 100_000 && made.finishedRunCapacity == 10_000)
        #expect(made.kafkaRetentionBytes == 16 << 20)
        let capped = try ServeOptions.parse([
            "--max-journal-entries", "50", "--max-finished-runs", "7", "--kafka-retention-mib", "3",
        ]).configuration(environment: [:])
        #expect(capped.journalCapacity == 50 && capped.finishedRunCapacity == 7)
        #expect(capped.kafkaRetentionBytes == 3 << 20)

        let options = try ServeOptions.parse(["--secret", "TOKEN=a=b", "--api-latency", "30ms", "--kafka-acls", "off"])
        let configuration = try options.configuration(environment: ["KAFKA_PASSWORD": "from-the-environment"])
        #expect(configuration.secrets == ["TOKEN": "a=b"])
        #expect(configuration.apiLatency == .milliseconds(30))
        #expect(configuration.kafkaFront.password == "from-the-environment")
        #expect(!configuration.kafkaFront.acls)
        #expect(configuration.externalKafka == nil)
        let flagged = try ServeOptions.parse(["--kafka-password", "from-the-flag"])
        #expect(try flagged.configuration(environment: ["KAFKA_PASSWORD": "x"]).kafkaFront.password == "from-the-flag")
    }
}
