import ChildProcesses
import Emulator
import Foundation
package import Logging
import PortContract
import PortKafka

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Start-up of `port-emulator serve` as a user sees it: from spawning the process until its
/// ready line, then checked (the API answers, both topics exist) before it is stopped.
package enum EmulatorBenchmarks {
    /// One timed start.
    package struct Startup: Sendable {
        /// Spawn until the ready line was read from the process's stdout.
        package let spawnToReady: Duration
        /// Spawn until the API answered and the topics were seen through Kafka metadata.
        package let spawnToVerified: Duration
        /// `PortEmulator.start` inside one process, without process start-up.
        package let inProcess: Duration
    }

    /// Spawns `executable serve --port 0`, waits for its ready line, checks it, stops it
    /// with SIGTERM; then times `PortEmulator.start` in this process too.
    package static func startup(executable: String, fixtures: String?, logger: Logger) async throws -> Startup {
        let clock = ContinuousClock()
        let (ready, verified) = try await spawnToReady(
            executable: executable,
            arguments: fixtures.map { ["--fixtures", $0] } ?? [],
            logger: logger
        )

        var configuration = EmulatorConfiguration()
        configuration.port = 0
        if let fixtures { configuration.fixtures = try Fixtures.load(from: fixtures) }
        let inProcessStart = clock.now
        let inProcess = try await PortEmulator.withRunning(configuration: configuration, logger: logger) { _ in
            clock.now - inProcessStart
        }
        return Startup(spawnToReady: ready, spawnToVerified: verified, inProcess: inProcess)
    }

    /// Spawns `executable serve --port 0 arguments…`, times it to its ready line and to a
    /// checked API and topics, then stops it with SIGTERM and waits for its end.
    package static func spawnToReady(
        executable: String,
        arguments: [String],
        logger: Logger
    ) async throws -> (ready: Duration, verified: Duration) {
        let clock = ContinuousClock()
        let pipe = try ChildProcess.makePipe()
        let started = clock.now
        let child = try ChildProcess.spawn(
            [executable, "serve", "--port", "0", "--log-level", "error"] + arguments,
            environment: ProcessInfo.processInfo.environment,
            input: .null,
            output: .descriptor(pipe.write),
            error: .null
        )
        close(pipe.write)
        let output = FileHandle(fileDescriptor: pipe.read, closeOnDealloc: true)
        let (ready, verified): (ContinuousClock.Instant, ContinuousClock.Instant)
        do {
            (ready, verified) = try await readyAndVerified(output, clock: clock, logger: logger)
        } catch {
            child.signal(SIGTERM)
            _ = await child.wait()
            throw error
        }
        child.signal(SIGTERM)
        _ = await child.wait()
        return (ready - started, verified - started)
    }

    /// Reads the ready line from `output`, then checks that the API answers and the topics
    /// exist; returns when each was done.
    private static func readyAndVerified(
        _ output: FileHandle,
        clock: ContinuousClock,
        logger: Logger
    ) async throws -> (ContinuousClock.Instant, ContinuousClock.Instant) {
        guard let line = await readLine(containing: "port-emulator ready:", from: output) else {
            throw BenchmarkError(message: "port-emulator exited before its ready line")
        }
        let ready = clock.now
        let fields = Dictionary(
            line.split(separator: " ").compactMap { part -> (String, String)? in
                let pair = part.split(separator: "=", maxSplits: 1)
                return pair.count == 2 ? (String(pair[0]), String(pair[1])) : nil
            },
            uniquingKeysWith: { first, _ in first }
        )
        guard let api = fields["api"], let kafka = fields["kafka"], let org = fields["org"] else {
            throw BenchmarkError(message: "unexpected ready line: \(line)")
        }
        try await verify(apiURL: api, kafka: kafka, topics: ["\(org).runs", "\(org).change.log"], logger: logger)
        return (ready, clock.now)
    }

    /// The first line containing `marker`, read on a thread of its own: a blocking pipe read
    /// must not hold one of the few threads Swift's tasks run on.
    private static func readLine(containing marker: String, from handle: FileHandle) async -> String? {
        await onThreadOfItsOwn {
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return nil }
                buffer.append(chunk)
                let text = String(decoding: buffer, as: UTF8.self)
                if let line = text.split(separator: "\n").first(where: { $0.contains(marker) }) { return String(line) }
            }
        }
    }

    private static func verify(apiURL: String, kafka: String, topics: [String], logger: Logger) async throws {
        let health = URL(string: apiURL.replacingOccurrences(of: "/v1", with: "/_emulator/health"))!
        let (_, response) = try await URLSession.shared.data(from: health)
        guard (response as? HTTPURLResponse)?.statusCode == 200 else {
            throw BenchmarkError(message: "the API did not answer /_emulator/health with 200")
        }
        let producer = try KafkaProducer.make(
            configuration: KafkaProducerConfiguration(bootstrapServers: [kafka]),
            logger: logger
        )
        let counts = try await producer.topicPartitionCounts(timeout: .seconds(5))
        await producer.close(timeout: .zero)
        let missing = topics.filter { counts[$0] == nil }
        guard missing.isEmpty else { throw BenchmarkError(message: "topics missing: \(missing)") }
    }
}
