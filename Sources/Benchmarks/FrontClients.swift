import ChildProcesses
import Foundation
import Logging
import PortContract
import PortKafka
import Synchronization

/// A Kafka client of the front's matrix (Tests/KafkaFrontTests/ClientMatrixTests.swift):
/// each but port-consumer runs as a child process that prints one JSON event per line, as
/// Tests/KafkaFrontTests/Clients/kafka_client.py does.
package enum FrontClient: String, Sendable, CaseIterable {
    /// confluent-kafka (a current librdkafka), from Python.
    case confluent
    /// kafka-python 2.0.2.
    case kafkaPython = "kafka-python"
    /// The current kafka-python (3.x), from the virtual environment `make deps` makes.
    case kafkaPython3 = "kafka-python-3"
    /// aiokafka.
    case aiokafka
    /// Go's sarama (Debian's 1.22.1) at its lowest consumer-group protocol (Kafka 0.10.2.0).
    case saramaLowest = "sarama-min"
    /// sarama at the highest protocol it knows (Kafka 2.2.0: Metadata v7, Fetch v10…).
    case saramaHighest = "sarama-max"
    /// Go's kafka-go reader with a group (Debian's 0.2.1: Fetch v2, message format v1).
    case kafkaGo = "kafka-go"
    /// port-consumer's own Kafka layer (the `Kafka` module over Debian's librdkafka 2.0.2),
    /// in this process, with the settings port-consumer gives it.
    case portConsumer = "port-consumer"

    /// Whether it can use a SASL_SSL listener (kafka-go 0.2.1 has no SASL).
    package var hasSASL: Bool { self != .kafkaGo }
}

/// Where the clients' programs are, relative to the directory `make` runs in.
package struct FrontClientPrograms: Sendable {
    /// The Python clients' script.
    package var script = "Tests/KafkaFrontTests/Clients/kafka_client.py"
    /// The interpreter of the virtual environment with kafka-python 3.
    package var kafkaPython3 = ".build-venv/kafka-python3/bin/python"
    /// The folder of `sarama_client` and `kafkago_client`.
    package var goClients = ".build/go-clients"
    /// The confluent-kafka group member that reports its assignment (GroupTimingTests' too).
    package var restartScript = "Tests/KafkaFrontTests/Clients/group_member.py"

    /// The defaults above.
    package init() {}

    /// The command line that starts `client`, before the arguments all clients take; nil
    /// for port-consumer, which runs in this process.
    func command(_ client: FrontClient) throws -> [String]? {
        let command: [String]
        switch client {
        case .confluent, .kafkaPython, .aiokafka: command = ["python3", script, "--client", client.rawValue]
        case .kafkaPython3: command = [kafkaPython3, script, "--client", "kafka-python"]
        case .saramaLowest: command = [goClients + "/sarama_client", "--kafka-version", "min"]
        case .saramaHighest: command = [goClients + "/sarama_client", "--kafka-version", "max"]
        case .kafkaGo: command = [goClients + "/kafkago_client"]
        case .portConsumer: return nil
        }
        try Self.check(command)
        return command
    }

    /// Fails with what to do when a program or script of `command` is missing.
    static func check(_ command: [String]) throws {
        for path in command.prefix(2) where path.contains("/") {
            guard FileManager.default.fileExists(atPath: path) else {
                throw BenchmarkError(message: "\(path) is missing: run `make deps` (from the repository's root)")
            }
        }
    }
}

/// One message as a client read it: its wall-clock read time and its Kafka timestamp.
struct ClientRead: Sendable {
    /// When the client read it, in seconds since the epoch.
    let at: Double
    /// Its Kafka timestamp in milliseconds since the epoch, if it had one.
    let timestamp: Double?

    /// From the timestamp to the read, in milliseconds.
    var latency: Double? { timestamp.map { at * 1000 - $0 } }
}

/// A consumer being measured: the messages it has read so far, and why it failed if it did.
protocol MeasuredReader: Sendable {
    /// The messages read so far, in order.
    func reads() -> [ClientRead]
    /// Why it cannot go on (it reported an error, or it ended), nil while it runs fine.
    func failure() -> String?
    /// Stops it and frees what it holds.
    func stop() async
}

/// A client running as a child process, its JSON events read from the file its stdout goes to
/// (stderr to a file of its own, quoted when it fails).
final class ClientProcess: MeasuredReader {
    let name: String
    private let process: ChildProcess
    private let outputPath: String
    private let errorPath: String

    private init(name: String, process: ChildProcess, outputPath: String, errorPath: String) {
        self.name = name
        self.process = process
        self.outputPath = outputPath
        self.errorPath = errorPath
    }

    /// Starts `arguments` with this process's environment.
    static func start(_ name: String, _ arguments: [String]) throws -> ClientProcess {
        let base = NSTemporaryDirectory() + "bench-client-\(UUID().uuidString)"
        let process = try ChildProcess.spawn(
            arguments,
            environment: ProcessInfo.processInfo.environment,
            input: .null,
            output: .file(base + ".out"),
            error: .file(base + ".err")
        )
        return ClientProcess(name: name, process: process, outputPath: base + ".out", errorPath: base + ".err")
    }

    /// The events printed so far (lines that are not JSON objects are left out).
    func events() -> [JSONObject] {
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { (try? JSONValue.parse(Array($0.utf8)))?.objectValue }
    }

    /// The events of one kind printed so far.
    func events(_ kind: String) -> [JSONObject] { events().filter { $0["event"]?.stringValue == kind } }

    func reads() -> [ClientRead] {
        events("message").map { event in
            let stamp = event["timestamp"]?.doubleValue
            return ClientRead(
                at: event["at"]?.doubleValue ?? 0,
                timestamp: stamp.flatMap { $0 > 0 ? $0 : nil }
            )
        }
    }

    /// How it ended, once it has.
    var termination: ChildProcess.Termination? { process.termination }

    func failure() -> String? {
        if let error = events("error").first {
            return "\(name) reported an error: \(JSONValue.object(error).compactText)\(stderrTail())"
        }
        guard let termination = process.termination else { return nil }
        return "\(name) ended (\(termination))\(stderrTail())"
    }

    /// Waits until it ends, at most `limit`; then stops it.
    func finish(within limit: Duration) async -> ChildProcess.Termination? {
        let deadline = ContinuousClock.now + limit
        while process.termination == nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        let termination = process.termination
        await stop()
        return termination
    }

    /// The last lines it wrote on stderr, for an error message.
    func stderrTail() -> String {
        let text = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
        let tail = text.split(separator: "\n").suffix(5).joined(separator: "\n")
        return tail.isEmpty ? "" : "; its stderr ends:\n\(tail)"
    }

    func stop() async {
        process.signal(SIGTERM)
        let deadline = ContinuousClock.now + .seconds(5)
        while process.termination == nil, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        process.signal(SIGKILL)
        _ = await process.wait()
        try? FileManager.default.removeItem(atPath: outputPath)
        try? FileManager.default.removeItem(atPath: errorPath)
    }
}

/// port-consumer's Kafka layer in this process: a `KafkaConsumer` configured as
/// `PortConsumer.make` configures it, committing each message once read.
final class PortConsumerReader: MeasuredReader {
    /// What the reading task saw.
    private final class ReadLog: Sendable {
        private struct State {
            var reads: [ClientRead] = []
            var error: String?
        }

        private let state = Mutex(State())

        func append(_ read: ClientRead) { state.withLock { $0.reads.append(read) } }
        func fail(_ error: String) { state.withLock { $0.error = error } }
        var reads: [ClientRead] { state.withLock { $0.reads } }
        var error: String? { state.withLock { $0.error } }
    }

    private let consumer: KafkaConsumer
    private let log = ReadLog()
    private let reading: Task<Void, Never>

    /// Subscribes to `topic` as member of `group`; `fetchMaxWait` nil keeps port-consumer's
    /// default (`KAFKA_FETCH_WAIT_MAX_MS`, 500 ms).
    init(
        bootstrap: String,
        security: KafkaSecurityProtocol,
        topic: String,
        group: String,
        fetchMaxWait: Int?,
        logger: Logger
    ) throws {
        var configuration = KafkaConsumerConfiguration(bootstrapServers: [bootstrap], groupID: group)
        configuration.clientID = "port-consumer"
        configuration.groupInstanceID = "port-consumer-bench"
        configuration.securityProtocol = security
        configuration.additionalProperties = ["fetch.wait.max.ms": String(fetchMaxWait ?? 500)]
        let consumer = try KafkaConsumer.make(configuration: configuration, logger: logger)
        try consumer.subscribe(topics: [topic])
        let log = log
        self.consumer = consumer
        reading = Task {
            do {
                for try await message in consumer.messages {
                    let at = Date().timeIntervalSince1970
                    log.append(ClientRead(at: at, timestamp: message.timestampMilliseconds.map(Double.init)))
                    try await consumer.commit(message)
                }
            } catch {
                log.fail("port-consumer's Kafka layer failed: \(error)")
            }
        }
    }

    func reads() -> [ClientRead] { log.reads }

    func failure() -> String? { log.error }

    /// Ends the reading task and waits for it, then closes the consumer.
    func stop() async {
        reading.cancel()
        await reading.value
        await consumer.close()
    }
}
