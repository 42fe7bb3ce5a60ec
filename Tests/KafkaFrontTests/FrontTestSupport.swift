import ChildProcesses
import Emulator
import Foundation
import Logging
import PortContract
import TestSupport

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// An emulator for the front's tests, and ways to drive independent Kafka clients at it.
struct FrontHarness {
    let emulator: PortEmulator

    /// Starts an emulator, runs `body` with it, and stops it however `body` ends; returns
    /// `body`'s value once the emulator has stopped.
    static func run<Value: Sendable>(
        acls: Bool = true,
        orgID: String = "org_front",
        _ body: @escaping @Sendable (FrontHarness) async throws -> Value
    ) async throws -> Value {
        var configuration = EmulatorConfiguration()
        configuration.port = 0
        configuration.orgID = orgID
        configuration.kafkaFront.acls = acls
        return try await PortEmulator.withRunning(configuration: configuration, logger: quietLogger) { emulator in
            try await body(FrontHarness(emulator: emulator))
        }
    }

    var info: EmulatorInfo { emulator.info }

    /// Publishes `count` messages to `ORG_ID.runs` as Port does (behind the front) and
    /// returns their values.
    @discardableResult
    func publish(_ count: Int, tag: String) async throws -> [String] {
        var values: [String] = []
        for index in 0..<count {
            let value = "\(tag)-\(index)"
            _ = try await emulator.publisher.publishRaw(.object(["message": .string(value)]), runID: "r_\(tag)\(index)")
            values.append(#"{"message":"\#(value)"}"#)
        }
        return values
    }

    /// The arguments that connect a client to one kind of listener.
    func connection(_ mode: ListenerMode, password: String? = nil, ca: String? = nil) -> [String] {
        switch mode {
        case .plaintext: return ["--bootstrap", info.kafkaBootstrapServers]
        case .saslSSL:
            return [
                "--bootstrap", info.kafkaSASLSSLBootstrapServers!, "--security", "SASL_SSL", "--username",
                info.kafkaUsername!, "--password", password ?? info.kafkaPassword!, "--ca", ca ?? info.kafkaCALocation!,
            ]
        }
    }

    /// kcat's `-X` settings for one kind of listener.
    func kcatSettings(_ mode: ListenerMode) -> [String] {
        switch mode {
        case .plaintext: return ["-b", info.kafkaBootstrapServers]
        case .saslSSL:
            return [
                "-b", info.kafkaSASLSSLBootstrapServers!, "-X", "security.protocol=SASL_SSL", "-X",
                "sasl.mechanism=SCRAM-SHA-512", "-X", "sasl.username=\(info.kafkaUsername!)", "-X",
                "sasl.password=\(info.kafkaPassword!)", "-X", "ssl.ca.location=\(info.kafkaCALocation!)",
            ]
        }
    }
}

enum ListenerMode: String, CaseIterable, CustomStringConvertible, Sendable {
    case plaintext = "PLAINTEXT"
    case saslSSL = "SASL_SSL"
    var description: String { rawValue }
}

/// One event a client printed (see Clients/kafka_client.py).
struct ClientEvent: Sendable {
    let fields: JSONObject
    var kind: String { fields["event"]?.stringValue ?? "" }
    var value: String? { fields["value"]?.stringValue }
    var name: String { fields["name"]?.stringValue ?? "" }
    var message: String { fields["message"]?.stringValue ?? "" }
}

/// What a client run printed, and how it ended.
struct ClientRun: Sendable, CustomStringConvertible {
    let status: Int32
    let events: [ClientEvent]
    let errors: String

    var messages: [String] { events.filter { $0.kind == "message" }.compactMap(\.value) }
    /// Whether the client said `text`: in an error it reported, or in its log on stderr.
    func said(_ text: String) -> Bool { errors.contains(text) || events.contains { $0.message.contains(text) } }
    var error: ClientEvent? { events.first { $0.kind == "error" } }
    var description: String {
        "status \(status); events: \(events.map { JSONValue.object($0.fields).compactText }); stderr: \(errors.suffix(2000))"
    }
}

enum Clients {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Clients")
    static let script = directory.appendingPathComponent("kafka_client.py").path
    static var environment: [String: String] { ProcessInfo.processInfo.environment }

    /// The interpreter of the virtual environment with kafka-python 3 (`make deps`).
    static let kafkaPython3 = directory.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build-venv/kafka-python3/bin/python").path

    /// The Go clients `make deps` builds from Debian's sarama and kafka-go (Clients/go).
    static let goClients = directory.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/go-clients").path

    /// Runs the Python client script with these arguments to its end.
    static func python(_ arguments: [String], interpreter: String = "python3") async throws -> ClientRun {
        try await jsonLines([interpreter, script] + arguments)
    }

    /// Runs a Go client (`sarama_client`, `kafkago_client`): the Python script's arguments and output.
    static func go(_ client: String, _ arguments: [String]) async throws -> ClientRun {
        try await jsonLines([goClients + "/" + client] + arguments)
    }

    /// Runs a client that prints one JSON event per line.
    private static func jsonLines(_ command: [String]) async throws -> ClientRun {
        let (termination, output, errors) = try await ChildProcess.run(command, environment: environment)
        let events = output.split(separator: "\n").compactMap { line -> ClientEvent? in
            guard let value = try? JSONValue.parse(Array(line.utf8)), let object = value.objectValue else { return nil }
            return ClientEvent(fields: object)
        }
        return ClientRun(status: termination.status, events: events, errors: errors)
    }

    /// Runs kcat to its end; its output lines become `message` events.
    static func kcat(_ arguments: [String]) async throws -> ClientRun {
        let (termination, output, errors) = try await ChildProcess.run(["kcat"] + arguments, environment: environment)
        let events = output.split(separator: "\n").map {
            ClientEvent(fields: JSONObject([("event", .string("message")), ("value", .string(String($0)))]))
        }
        return ClientRun(status: termination.status, events: events, errors: errors)
    }
}
