import ChildProcesses
import Emulator
import Foundation
import PortContract
import TestSupport
import Testing

@Suite("serve keeps the fixtures' jq conditions that compiled in the user's cache", .heavy, .timeLimit(.minutes(10)))
struct JQCompileRecordServeTests {
    /// Starts `serve` with `fixtures` and `environment` until its ready line (then stops it)
    /// or its end; returns whether it was ready and what it wrote.
    static func start(
        _ fixtures: String,
        in sandbox: CASandbox,
        environment: [String: String]
    ) async throws -> (ready: Bool, output: String) {
        let log = sandbox.root + "/serve-\(UUID().uuidString).log"
        // Bounded by timeout(1): a test process that dies leaves no serve behind.
        let serve = try ChildProcess.spawn(
            ["timeout", "300", EmulatorExecutable.path, "serve", "--port", "0", "--fixtures", fixtures],
            environment: environment,
            outputPath: log
        )
        defer { serve.signal(SIGKILL) }
        try await waitUntil("serve's ready line or its end", within: .seconds(60)) {
            serve.termination != nil || (sandbox.contents(log) ?? "").contains("port-emulator ready:")
        }
        let output = sandbox.contents(log) ?? ""
        return (output.contains("port-emulator ready:"), output)
    }

    @Test("the conditions are recorded under $HOME/.cache (or $XDG_CACHE_HOME); a broken one is refused all the same")
    func recordedAndNeverTrustedForFailures() async throws {
        let sandbox = try CASandbox.make()
        defer { sandbox.remove() }
        let fixtures = sandbox.root + "/fixtures"
        try FileManager.default.copyItem(atPath: EmulatorHarness.fixturesDirectory, toPath: fixtures)
        let conditions = Set(try Fixtures.load(from: fixtures).actions.flatMap { $0.automation?.expressions ?? [] })
        #expect(conditions.count >= 3)
        let record = sandbox.root + "/home/.cache/port-emulator/jq-compiles"

        let first = try await Self.start(fixtures, in: sandbox, environment: sandbox.environment)
        #expect(first.ready, "\(first.output)")
        #expect((try? FileManager.default.contentsOfDirectory(atPath: record).count) == conditions.count)

        // A condition broken since: refused with jq's error, though its neighbours are recorded.
        let action = fixtures + "/actions/alert_rollback_failure.json"
        let text = try #require(sandbox.contents(action))
        try Data(
            text.replacingOccurrences(of: #"".diff.before.status != \"FAILURE\"""#, with: #"".diff.before.status !=""#)
                .utf8
        )
        .write(to: URL(fileURLWithPath: action))
        let broken = try await Self.start(fixtures, in: sandbox, environment: sandbox.environment)
        #expect(!broken.ready)
        #expect(broken.output.contains("is not valid jq"), "\(broken.output)")

        // XDG_CACHE_HOME wins over HOME.
        try Data(text.utf8).write(to: URL(fileURLWithPath: action))
        var environment = sandbox.environment
        environment["XDG_CACHE_HOME"] = sandbox.root + "/xdg"
        let third = try await Self.start(fixtures, in: sandbox, environment: environment)
        #expect(third.ready, "\(third.output)")
        let xdg = sandbox.root + "/xdg/port-emulator/jq-compiles"
        #expect((try? FileManager.default.contentsOfDirectory(atPath: xdg).count) == conditions.count)
    }
}
