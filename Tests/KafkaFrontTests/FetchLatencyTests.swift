import ChildProcesses
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

/// A client started in the background whose events are read as it prints them.
struct StreamingClient {
    let process: ChildProcess
    let outputPath: String

    static func start(_ arguments: [String]) throws -> StreamingClient {
        let path = NSTemporaryDirectory() + "front-client-\(UUID().uuidString).log"
        let process = try ChildProcess.spawn(
            ["python3", Clients.script] + arguments,
            environment: Clients.environment,
            outputPath: path
        )
        return StreamingClient(process: process, outputPath: path)
    }

    var events: [ClientEvent] {
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            (try? JSONValue.parse(Array(line.utf8)))?.objectValue.map(ClientEvent.init)
        }
    }

    func messageCount() -> Int { events.filter { $0.kind == "message" }.count }

    func stop() async {
        process.signal(SIGTERM)
        _ = await process.wait()
        try? FileManager.default.removeItem(atPath: outputPath)
    }
}

@Suite(
    "Fetch is long-polled: a message reaches a waiting consumer when it arrives, not at MaxWaitMs",
    .heavy,
    .timeLimit(.minutes(10))
)
struct FetchLatencyTests {
    /// Publishes `count` messages one at a time, each once the client has read the one
    /// before, and returns each message's latency (the client's receive time minus the
    /// message's Kafka timestamp), in milliseconds.
    static func latencies(client: String, fetchMaxWait: Int?, count: Int) async throws -> [Double] {
        try await FrontHarness.run { harness in
            var arguments = [
                "--client", client, "--action", "consume", "--topic", harness.info.runsTopic, "--group",
                "\(harness.info.orgID).latency", "--count", "\(count + 1)", "--timeout", "90",
            ]
            if let fetchMaxWait { arguments += ["--fetch-max-wait-ms", "\(fetchMaxWait)"] }
            let consumer = try StreamingClient.start(arguments + harness.connection(.plaintext))
            // The first message waits for the group to form; the rest measure the fetch.
            for index in 0...count {
                try await harness.publish(1, tag: "latency\(index)")
                try await waitUntil("message \(index + 1) read by \(client)", within: .seconds(45)) {
                    consumer.messageCount() > index
                }
            }
            let latencies = consumer.events.filter { $0.kind == "message" }.dropFirst().compactMap { event -> Double? in
                guard let at = event.fields["at"]?.doubleValue, let stamp = event.fields["timestamp"]?.doubleValue
                else {
                    return nil
                }
                return at * 1000 - stamp
            }
            await consumer.stop()
            return latencies
        }
    }

    @Test(
        "with a 5 s MaxWaitMs, half of the messages arrive within a second (the mock alone: about 2.5 s)",
        arguments: ["confluent", "kafka-python"]
    )
    func longMaxWait(client: String) async throws {
        let latencies = try await Self.latencies(client: client, fetchMaxWait: 5000, count: 9).sorted()
        #expect(latencies.count == 9)
        let median = latencies[latencies.count / 2]
        #expect(median < 1000, "median \(median) ms of \(latencies)")
    }
}
