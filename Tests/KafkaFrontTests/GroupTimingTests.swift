import ChildProcesses
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// A client process the test reads while it runs: its JSON lines (stdout and stderr share
/// one file), and how long after the spawn the test first saw an event.
struct WatchedClient: Sendable {
    let process: ChildProcess
    let output: String
    let spawned: ContinuousClock.Instant

    static func start(_ command: [String]) throws -> WatchedClient {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("client-\(UUID().uuidString)").path
        let spawned = ContinuousClock.now
        let process = try ChildProcess.spawn(command, environment: Clients.environment, outputPath: output)
        return WatchedClient(process: process, output: output, spawned: spawned)
    }

    /// A confluent-kafka member with librdkafka's default group timing (Clients/group_member.py):
    /// `count` messages then a clean close, or with 0 until it is killed or fenced (or 3 minutes pass).
    static func member(
        _ harness: FrontHarness,
        group: String,
        instance: String? = nil,
        count: Int = 0
    ) throws -> WatchedClient {
        var command = [
            "python3", Clients.directory.appendingPathComponent("group_member.py").path, "--bootstrap",
            harness.info.kafkaBootstrapServers, "--topic", harness.info.runsTopic, "--group", group, "--count",
            "\(count)", "--timeout", "180",
        ]
        if let instance { command += ["--instance", instance] }
        return try start(command)
    }

    /// Sarama at the highest protocol version it knows: `count` messages, then it leaves the group.
    static func sarama(_ harness: FrontHarness, group: String, count: Int) throws -> WatchedClient {
        try start([
            Clients.goClients + "/sarama_client", "--action", "consume", "--topic", harness.info.runsTopic, "--group",
            group, "--count", "\(count)", "--timeout", "60", "--kafka-version", "max", "--bootstrap",
            harness.info.kafkaBootstrapServers,
        ])
    }

    var text: String { (try? String(contentsOfFile: output, encoding: .utf8)) ?? "" }
    var events: [ClientEvent] {
        text.split(separator: "\n").compactMap { try? JSONValue.parse(Array($0.utf8)).objectValue }.map {
            ClientEvent(fields: $0)
        }
    }
    func events(_ kind: String) -> [ClientEvent] { events.filter { $0.kind == kind } }
    var messages: [String] { events("message").compactMap(\.value) }

    /// Waits for the first `kind` event that `matches`; returns it and when the test saw it.
    func first(
        _ kind: String,
        within limit: Duration,
        where matches: (ClientEvent) -> Bool = { _ in true }
    ) async throws -> (event: ClientEvent, seen: Duration) {
        let deadline = ContinuousClock.now + limit
        while true {
            let ended = process.termination != nil  // read first: what it printed before ending is in the file
            if let event = events(kind).first(where: matches) { return (event, ContinuousClock.now - spawned) }
            guard !ended, ContinuousClock.now < deadline else {
                throw WaitFailed(
                    description: "no \"\(kind)\" event (client \(ended ? "ended" : "running")): \(text.suffix(3000))"
                )
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Waits for the client to end by itself.
    func end(within limit: Duration) async throws -> ChildProcess.Termination {
        let process = self.process
        do {
            return try await withDeadline(limit, "the client to end") { await process.wait() }
        } catch is DeadlineExceeded {
            throw WaitFailed(description: "the client did not end: \(text.suffix(3000))")
        }
    }

    struct WaitFailed: Error, CustomStringConvertible {
        let description: String
    }

    /// Kills the client if it still runs and deletes its output: for a `defer`, on every path.
    func discard() {
        process.signal(SIGKILL)
        try? FileManager.default.removeItem(atPath: output)
    }
}

/// Kafka's classic group coordinator as clients meet it through the front, at their default
/// timing: the restart the old broker made wait 44 s, and KIP-345's fencing.
@Suite(
    "Group timing through the front: restarts within seconds, a duplicate static member fenced",
    .heavy,
    .timeLimit(.minutes(10))
)
struct GroupTimingTests {
    @Test(
        "a consumer closed cleanly and started again gets its partitions again within seconds, with librdkafka's default 45 s session"
    )
    func confluentRestart() async throws {
        try await FrontHarness.run { harness in
            let group = "\(harness.info.orgID).restart"
            let first = try await harness.publish(1, tag: "first")
            let before = try WatchedClient.member(harness, group: group, count: 1)
            defer { before.discard() }
            let closed = try await before.end(within: .seconds(120))
            #expect(closed.status == 0 && before.messages == first, "\(before.text)")
            #expect(!before.events("closed").isEmpty, "the first consumer closed cleanly: \(before.text)")

            let second = try await harness.publish(1, tag: "second")
            let after = try WatchedClient.member(harness, group: group, count: 1)
            defer { after.discard() }
            let (assigned, seen) = try await after.first("assigned", within: .seconds(60)) { $0.fields["count"] != 0 }
            // From the consumer's creation to its on_assign callback, as the client measured it.
            let measured = try #require(assigned.fields["after"]?.doubleValue, "\(after.text)")
            // The old broker kept the group waiting 44 s (the session minus a second); Kafka's
            // figure is its 3 s initial rebalance delay. A loaded machine may add to it.
            #expect(measured < 15, "measured \(measured) s (the test saw the assignment \(seen) after the spawn)")
            let ended = try await after.end(within: .seconds(120))
            #expect(ended.status == 0, "\(after.text)")
            #expect(after.messages == second, "read on from the committed offset: \(after.text)")
            #expect(harness.emulator.recorder.violations.isEmpty, "\(harness.emulator.recorder.violations)")
        }
    }

    @Test("the same with sarama at its highest protocol version, timed by the test from its start to its assignment")
    func saramaRestart() async throws {
        let executable = Clients.goClients + "/sarama_client"
        try #require(FileManager.default.isExecutableFile(atPath: executable), "\(executable) is missing: make deps")
        try await FrontHarness.run { harness in
            let group = "\(harness.info.orgID).restart"
            let first = try await harness.publish(1, tag: "first")
            let before = try WatchedClient.sarama(harness, group: group, count: 1)
            defer { before.discard() }
            let closed = try await before.end(within: .seconds(120))
            #expect(closed.status == 0 && before.messages == first, "\(before.text)")

            let second = try await harness.publish(1, tag: "second")
            let after = try WatchedClient.sarama(harness, group: group, count: 1)
            defer { after.discard() }
            // sarama's "assigned" line (its ConsumerGroupHandler.Setup) carries no time: the test
            // times it from the spawn to the line, to within its 20 ms polls.
            let (_, seen) = try await after.first("assigned", within: .seconds(60)) { $0.fields["count"] != 0 }
            #expect(seen < .seconds(15), "measured \(seen) from the spawn to the assignment")
            let ended = try await after.end(within: .seconds(120))
            #expect(ended.status == 0, "\(after.text)")
            #expect(after.messages == second, "read on from the committed offset: \(after.text)")
        }
    }

    @Test("a second live member with the same group.instance.id is fenced: the first gets FENCED_INSTANCE_ID")
    func duplicateInstanceFenced() async throws {
        try await FrontHarness.run { harness in
            let group = "\(harness.info.orgID).fenced"
            let first = try WatchedClient.member(harness, group: group, instance: "worker-1")
            defer { first.discard() }
            _ = try await first.first("assigned", within: .seconds(60)) { $0.fields["count"] != 0 }
            let before = try await harness.publish(1, tag: "before")
            // Once its commit is acknowledged, the second member has nothing of it to read again.
            try await waitUntil("the first member to read and commit") {
                first.events("committed").compactMap(\.value) == before
            }

            let second = try WatchedClient.member(harness, group: group, instance: "worker-1")
            defer { second.discard() }
            _ = try await second.first("assigned", within: .seconds(60)) { $0.fields["count"] != 0 }
            // The first learns it at its next heartbeat (librdkafka's default: every 3 s).
            let (fenced, _) = try await first.first("error", within: .seconds(60)) { $0.fields["fatal"] == true }
            #expect(fenced.name == "_FATAL", "\(first.text)")
            #expect(fenced.fields["underlying"]?.stringValue == "FENCED_INSTANCE_ID", "\(first.text)")
            #expect(
                fenced.message.contains("Static consumer fenced by other consumer with same group.instance.id"),
                "\(first.text)"
            )
            let ended = try await first.end(within: .seconds(60))
            #expect(ended.status == 2, "a fenced consumer is done: \(first.text)")

            let after = try await harness.publish(1, tag: "after")
            try await waitUntil("the second member to read and commit on", within: .seconds(60)) {
                second.events("committed").compactMap(\.value) == after
            }
            #expect(second.messages == after, "\(second.text)")
            #expect(second.events("error").isEmpty, "the second member keeps consuming: \(second.text)")
            #expect(second.process.termination == nil, "\(second.text)")
        }
    }
}
