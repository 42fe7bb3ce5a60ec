import Conformance
import Emulator
import Foundation
import Logging
import PortContract
import Synchronization
import TestSupport

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// Paths of the repository and its built executables.
enum Repository {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = root.appendingPathComponent("fixtures").path
    static let scenarios = root.appendingPathComponent("fixtures/scenarios").path
    static let handlers = root.appendingPathComponent("fixtures/handlers/handlers.json").path
    static let binaries = BuiltProducts.directory
    static let buggyConsumer = root.appendingPathComponent("Tests/ConformanceTests/Consumers/buggy_consumer.py").path

    /// A fresh temporary directory.
    static func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "verify-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }
}

/// Collects the progress lines a verifier prints.
final class ProgressLines: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var all: [String] { lines.withLock { $0 } }
}

/// A scenario from inline JSON.
func scenario(_ name: String, _ json: String) throws -> Scenario {
    try Scenario(name: name, json: try JSONValue.parse(Array(json.utf8)))
}

/// Runs the verifier in this process against `command`, with these scenarios.
func verify(
    _ scenarios: [Scenario],
    command: [String],
    readyPattern: String? = nil,
    startupTimeout: Duration = .seconds(30),
    environment: [String: String] = [:],
    polling: Bool = false,
    configure: (inout Verifier.Options) -> Void = { _ in }
) async throws -> (report: VerifyReport, progress: [String]) {
    let directory = try Repository.temporaryDirectory()
    var options = Verifier.Options(scenarios: scenarios)
    options.consumerCommand = command
    options.fixtures = try Fixtures.load(from: Repository.fixtures)
    options.readyPattern = readyPattern
    options.startupTimeout = startupTimeout
    options.consumerLogPath = directory + "/consumer.log"
    options.environment = environment
    options.polling = polling
    configure(&options)
    let progress = ProgressLines()
    let verifier = Verifier(options: options, logger: quietLogger) { progress.append($0) }
    let report = try await verifier.run()
    return (report, progress.all)
}
