import ChildProcesses
package import Logging
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The function's execution environment: the runtime client's command, run as a child
/// process with the Lambda environment, started again whenever it ends (a crash, or a
/// timeout: Lambda discards an environment whose invocation timed out, and so do we by
/// killing its process group).
package final class LambdaFunctionProcess: Sendable {
    private struct State {
        var child: ChildProcess?
        var starts = 0
        var exits: [String] = []
    }

    private let command: [String]
    private let environment: [String: String]
    private let logPath: String
    private let runtime: LambdaRuntime
    private let logger: Logger
    private let state = Mutex(State())

    /// An environment for `command`; its output is appended to `logPath`.
    package init(
        command: [String],
        environment: [String: String],
        logPath: String,
        runtime: LambdaRuntime,
        logger: Logger
    ) {
        self.command = command
        self.environment = environment
        self.logPath = logPath
        self.runtime = runtime
        self.logger = logger
    }

    /// Runs the command, starting it again after each end, until cancelled; then stops it
    /// (SIGTERM, SIGKILL after 2 s).
    package func run() async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled {
            let started = ContinuousClock.now
            let child: ChildProcess
            do {
                child = try start()
            } catch {
                logger.error("cannot start the Lambda function's runtime: \(error)")
                state.withLock { $0.exits.append("cannot start: \(error)") }
                try? await Task.sleep(for: .seconds(5))
                continue
            }
            let termination = await withTaskCancellationHandler {
                await child.wait()
            } onCancel: {
                child.signal(SIGTERM)
                detachThread {
                    usleep(2_000_000)
                    child.signal(SIGKILL)
                }
            }
            state.withLock { state in
                state.child = nil
                state.exits.append(termination.description)
            }
            runtime.environmentEnded(termination.description)
            guard !Task.isCancelled else { break }
            logger.notice("the Lambda function's runtime ended (\(termination)); starting a new environment")
            // A runtime that dies at once is started again after a growing pause (up to 5 s).
            backoff = ContinuousClock.now - started < .seconds(1) ? min(backoff * 2, .seconds(5)) : .milliseconds(100)
            try? await Task.sleep(for: backoff)
        }
    }

    private func start() throws -> ChildProcess {
        let number = state.withLock { $0.starts + 1 }
        let header = Array("--- port-emulator: Lambda execution environment #\(number) ---\n".utf8)
        if !appendToFile(logPath, header) {
            _ = FileManager.default.createFile(atPath: logPath, contents: Data(header))
        }
        let child = try ChildProcess.spawn(
            command,
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            outputPath: logPath
        )
        state.withLock { state in
            state.child = child
            state.starts += 1
        }
        return child
    }

    /// Discards the environment (after a timeout): its process group is killed, and `run()`
    /// starts a new one.
    package func discardEnvironment() {
        state.withLock { $0.child }?.signal(SIGKILL)
    }

    /// How many environments were started.
    package var starts: Int { state.withLock { $0.starts } }

    /// How each environment ended, oldest first.
    package var exits: [String] { state.withLock { $0.exits } }
}
