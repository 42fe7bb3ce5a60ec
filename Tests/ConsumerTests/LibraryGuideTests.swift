import Conformance
import Consumer
import Emulator
import Foundation
import Logging
import PortCatalog
import PortContract
import ServiceLifecycle
import TestSupport
import Testing
import UnixSignals

// The Swift guide (the DocC article "Write the backend in Swift",
// Sources/Consumer/Consumer.docc/BackendInSwift.md), verbatim: a test below checks that every
// line of the article's snippets is here, in order, and then runs it.

// --- guide: swift-guide ---
let handlers: [String: RunHandler] = [
    "create_vm": { run in
        let name = run.inputs["name"]?.stringValue ?? "vm"
        try await run.log("provisioning \(name)")
        try await run.upsertEntity(
            blueprint: "vm",
            identifier: name,
            properties: ["cpu": run.inputs["cpu"] ?? 2, "region": "eu-west-1"]
        )
        try await run.setLinks(["https://cloud.example.com/vms/\(name)"])
        try await run.setSummary("\(name) is up")
        // Returning reports SUCCESS; throwing reports FAILURE with the error as the last log.
    }
]

func runBackend(environment: [String: String]) async throws {
    // PORT_CLIENT_ID, PORT_CLIENT_SECRET, PORT_ORG_ID, KAFKA_BROKERS, … (see the configuration reference)
    let configuration = try ConsumerConfiguration(environment: environment)
    let consumer = try PortConsumer.make(configuration: configuration, handlers: handlers)
    let services = ServiceGroup(
        configuration: .init(
            services: [consumer],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "backend")
        )
    )
    try await services.run()
}

// In the guide this is `@main` (a test target has its own entry point).
struct Backend {
    static func main() async throws {
        try await runBackend(environment: ProcessInfo.processInfo.environment)
    }
}
// --- end ---

@Suite("The Swift guide (DocC article BackendInSwift)", .heavy, .timeLimit(.minutes(10)))
struct LibraryGuideTests {
    static let guide = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Sources/Consumer/Consumer.docc/BackendInSwift.md")

    @Test("the guide's snippets are this file's code, line for line", arguments: ["swift-guide", "swift-guide-test"])
    func snippetMatchesTheCode(marker: String) throws {
        let guide = try String(contentsOf: Self.guide, encoding: .utf8)
        let start = try #require(guide.range(of: "<!-- \(marker) -->\n```swift\n"))
        let end = try #require(guide.range(of: "```", range: start.upperBound..<guide.endIndex))
        let snippet = guide[start.upperBound..<end.lowerBound].split(separator: "\n").map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let tested = source.components(separatedBy: "// --- guide: \(marker) ---\n")[1]
            .components(separatedBy: "// --- end ---")[0]
            .split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let code = snippet.filter { !$0.hasPrefix("import ") && !$0.hasPrefix("@main") }
        #expect(code.count > 8)
        // Every line of the guide appears here, in the same order (the guide adds @main and imports).
        var remaining = tested[...]
        for line in code where !line.isEmpty {
            guard let index = remaining.firstIndex(of: line) else {
                Issue.record("guide line not in the tested code (or out of order): \(line)")
                return
            }
            remaining = remaining[(index + 1)...]
        }
    }

    @Test("the guide's backend and test, as the guide writes them, finish a run with its log, link and entity")
    func guideBackendFinishesARun() async throws {
        // --- guide: swift-guide-test ---
        var configuration = EmulatorConfiguration()
        configuration.port = 0  // a free port
        configuration.fixtures = try Fixtures.load(from: "fixtures")
        try await PortEmulator.withRunning(configuration: configuration) { emulator in
            let environment = Dictionary(emulator.info.environment, uniquingKeysWith: { $1 })
            try await withThrowingTaskGroup(of: Void.self) { backend in
                backend.addTask { try await runBackend(environment: environment) }
                let client = try EmulatorClient(url: emulator.info.apiBaseURL)
                let run = try await client.trigger(action: "create_vm", inputs: ["name": "vm-1", "cpu": 2])
                let finished = try await emulator.runs.wait(for: run["id"]!.stringValue!, timeout: .seconds(60)) {
                    $0.isLocked
                }
                #expect(finished.run.status == .success)
                // (not in the guide: what else the run left behind)
                let runID = try #require(run["id"]?.stringValue)
                #expect(finished.reached, "the run is still \(finished.run.status)")
                #expect(finished.run.summary == "vm-1 is up")
                #expect(finished.run.links == ["https://cloud.example.com/vms/vm-1"])
                let entity = try emulator.runs.entity("vm-1", of: "vm")
                #expect(entity.properties["cpu"] == 2)
                #expect(entity.properties["region"] == "eu-west-1")
                let logs = try emulator.runs.logs(runID).map(\.message)
                #expect(logs.contains("provisioning vm-1"))
                backend.cancelAll()  // the backend stops, then the emulator
            }
        }
        // --- end ---
    }
}
