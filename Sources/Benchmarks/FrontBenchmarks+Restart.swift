import ChildProcesses
import Foundation
package import Logging
import PortKafka

extension FrontBenchmarks {
    /// A client of the restart figure: one that says when it has been given its partitions.
    package enum RestartClient: String, Sendable, CaseIterable {
        /// confluent-kafka at librdkafka's defaults (session.timeout.ms 45000), its
        /// `on_assign` (Tests/KafkaFrontTests/Clients/group_member.py, as GroupTimingTests runs it).
        case confluent
        /// Go's sarama (Debian's 1.22.1) at Kafka 0.10.2.0's protocol, which the mock serves
        /// (sarama_client's `assigned` event, from its group handler's Setup).
        case saramaLowest = "sarama-min"
        /// sarama at the highest protocol it knows: our broker only (the mock's Metadata
        /// stops below what it asks).
        case saramaHighest = "sarama-max"

        /// The command line, before the connection's arguments.
        func command(_ programs: FrontClientPrograms) throws -> [String] {
            let command: [String]
            switch self {
            case .confluent: command = ["python3", programs.restartScript]
            case .saramaLowest, .saramaHighest:
                command = [
                    programs.goClients + "/sarama_client", "--action", "consume", "--kafka-version",
                    self == .saramaLowest ? "min" : "max",
                ]
            }
            try FrontClientPrograms.check(command)
            return command
        }
    }

    /// Restarts after a clean leave, `runs` times, and returns for each the time from the
    /// new consumer's start (its process spawned) to its assignment (its `assigned` event
    /// read). Each run takes a new group on one topic of one partition holding two
    /// messages: a first consumer joins, reads and commits one message and closes cleanly
    /// (LeaveGroup); then the timed one starts in the same group, is assigned, and must
    /// read the second message (after the committed offset) and close.
    ///
    /// `route`: `.direct` is librdkafka's mock cluster (the embedded Kafka before ours,
    /// which makes a member that joins after a leave wait the group's session timeout minus
    /// one second); `.plaintext` is our broker through the front (Kafka's timing: a new
    /// group waits group.initial.rebalance.delay.ms, 3 s, for more members).
    package static func restartToAssigned(
        client: RestartClient,
        route: FrontRoute,
        runs: Int,
        programs: FrontClientPrograms,
        logger: Logger
    ) async throws -> [Duration] {
        guard route != .saslSSL else {
            throw BenchmarkError(message: "restart-to-assigned runs on the mock (direct) and plaintext only")
        }
        let command = try client.command(programs)
        let topic = "bench.restart"
        return try await route.withConnection(topics: [(topic, 1)], logger: logger) { connection in
            try await restartToAssigned(
                client: client,
                command: command,
                runs: runs,
                route: route,
                topic: topic,
                connection: connection,
                logger: logger
            )
        }
    }

    private static func restartToAssigned(
        client: RestartClient,
        command: [String],
        runs: Int,
        route: FrontRoute,
        topic: String,
        connection: FrontRoute.Connection,
        logger: Logger
    ) async throws -> [Duration] {
        var producerConfiguration = KafkaProducerConfiguration(bootstrapServers: connection.bootstrapServers)
        producerConfiguration.securityProtocol = connection.security
        let producer = try KafkaProducer.make(configuration: producerConfiguration, logger: logger)
        do {
            for index in 0..<2 {
                _ = try await producer.send(KafkaProducerMessage(topic: topic, value: "restart-\(index)"))
            }
        } catch {
            await producer.close(timeout: .seconds(5))
            throw error
        }
        await producer.close(timeout: .seconds(5))

        var samples: [Duration] = []
        for run in 1...runs {
            let group = "bench.restart.\(client.rawValue).\(route.rawValue).\(run)"
            let arguments =
                command + [
                    "--bootstrap", connection.bootstrapServers.joined(separator: ","), "--topic", topic, "--group",
                    group, "--count", "1", "--timeout", "150",
                ]
            let first = try ClientProcess.start("\(client.rawValue) (first member)", arguments)
            try await runToEnd(first, within: .seconds(160), doing: "join \(group), read a message and leave")

            let started = ContinuousClock.now
            let restarted = try ClientProcess.start("\(client.rawValue) (restarted member)", arguments)
            let deadline = started + .seconds(160)
            while restarted.events("assigned").isEmpty {
                if let failure = restarted.failure() {
                    await restarted.stop()
                    throw BenchmarkError(message: "before its assignment in \(group): \(failure)")
                }
                guard ContinuousClock.now < deadline else {
                    await restarted.stop()
                    throw BenchmarkError(
                        message: "\(client.rawValue) (\(route.rawValue)) was not assigned within 160 s of its restart"
                    )
                }
                try await Task.sleep(for: .milliseconds(2))
            }
            samples.append(ContinuousClock.now - started)
            try await runToEnd(restarted, within: .seconds(60), doing: "read the message after the committed offset")
        }
        return samples
    }

    /// Waits for `client` to end with status 0 within `limit`; else stops it and throws.
    private static func runToEnd(_ client: ClientProcess, within limit: Duration, doing what: String) async throws {
        let deadline = ContinuousClock.now + limit
        while client.termination == nil, client.events("error").isEmpty, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        if let termination = client.termination, termination.status == 0, !termination.bySignal {
            await client.stop()
            return
        }
        let failure = client.failure() ?? "\(client.name) still runs after \(limit)"
        await client.stop()
        throw BenchmarkError(message: "\(client.name) did not \(what): \(failure)")
    }
}
