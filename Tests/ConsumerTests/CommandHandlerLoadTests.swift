import Consumer
import Foundation
import Logging
import Testing

/// Commands run by port-consumer hold their pipes open while they run; reading those pipes
/// must not take the threads Swift's tasks run on, or on a 2-core machine the consumer's own
/// timers (the timeout that kills a command) stop firing.
@Suite("CommandHandler under load", .timeLimit(.minutes(3)))
struct CommandHandlerLoadTests {
    @Test(
        "16 commands at once (port-consumer's default concurrency) are each killed at its timeout, none runs to its end"
    )
    func concurrentTimeouts() async throws {
        let finished = FileManager.default.temporaryDirectory.appendingPathComponent("finished-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: finished, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: finished) }
        // A command that outlives its timeout leaves a file behind.
        let handler = CommandHandler(
            command: ["sh", "-c", "echo started; echo failing >&2; sleep 20; touch \"$0/$$\"", finished.path],
            timeout: .seconds(1)
        )
        let event = try EntityChangeEvent(
            parsing: Array(
                #"{"resourceType":"entity","action":"CREATE","context":{"blueprint":"service","entity":"a"}}"#.utf8
            )
        )
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        // Each command would finish on its own after 20 s. With its pipes read on the
        // threads tasks run on (as before), the 1 s timeouts fired about 20 s late, after
        // the commands had finished their work; now each is killed at its timeout.
        let failures = await withTaskGroup(of: String.self) { group in
            for _ in 0..<16 {
                group.addTask {
                    do {
                        try await handler.run(for: event, logger: logger)
                        return "succeeded"
                    } catch {
                        return "\(error)"
                    }
                }
            }
            return await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(failures.count == 16)
        for failure in failures {
            #expect(failure.contains("timed out after 1.0 seconds and was killed"), "\(failure)")
        }
        let survivors = try FileManager.default.contentsOfDirectory(atPath: finished.path)
        #expect(survivors.isEmpty, "\(survivors.count) of 16 commands ran past their timeout to the end")
    }
}
