import ChildProcesses
import Emulator
import PortContract
import Synchronization

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The consumer under test, run as a child process: its output goes to a log file, and
/// `verify` can see it exit, kill it and start it again.
package final class ConsumerProcess: Sendable {
    /// One end of the consumer's life.
    package struct Exit: Sendable, Equatable, CustomStringConvertible {
        /// When it ended.
        package let time: Date
        /// Its exit status, or the signal that ended it.
        package let status: Int32
        /// Whether a signal ended it.
        package let bySignal: Bool
        /// Whether `verify` killed it on purpose (a chaos event or the final stop).
        package let intended: Bool

        /// `exit status 1` or `killed by signal 9`.
        package var description: String { bySignal ? "killed by signal \(status)" : "exit status \(status)" }
    }

    private struct State {
        var child: ChildProcess?
        var exits: [Exit] = []
        var starts = 0
        var intendedKill = false
    }

    /// The command line, as given.
    package let command: [String]
    /// The log file its stdout and stderr go to.
    package let logPath: String
    private let environment: [String: String]
    private let state = Mutex(State())

    /// A consumer to run as `command` with `environment` added to this process's own.
    package init(command: [String], environment: [String: String], logPath: String) {
        self.command = command
        self.environment = environment
        self.logPath = logPath
    }

    /// Starts (or starts again) the command; a command that cannot be started is an error.
    package func start() throws(ScenarioError) {
        let startNumber = state.withLock { $0.starts + 1 }
        if startNumber > 1 {
            appendToFile(logPath, Array("\n--- port-emulator verify: consumer start #\(startNumber) ---\n".utf8))
        }
        let child: ChildProcess
        do {
            child = try ChildProcess.spawn(
                command,
                environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                outputPath: logPath
            )
        } catch {
            throw ScenarioError(message: "cannot start the consumer `\(command.joined(separator: " "))`: \(error)")
        }
        state.withLock { state in
            state.child = child
            state.starts += 1
        }
        child.whenEnded { [weak self] termination in
            self?.state.withLock { state in
                state.exits.append(
                    Exit(
                        time: Date(),
                        status: termination.status,
                        bySignal: termination.bySignal,
                        intended: state.intendedKill
                    )
                )
                state.intendedKill = false
                if state.child === child { state.child = nil }
            }
        }
    }

    /// Whether the consumer is running now.
    package var isRunning: Bool { state.withLock { $0.child != nil } }

    /// How many times it was started.
    package var starts: Int { state.withLock { $0.starts } }

    /// Every exit so far, oldest first.
    package var exits: [Exit] { state.withLock { $0.exits } }

    /// The log's size now: output after this offset came from a later start.
    package var logSize: Int {
        ((try? FileManager.default.attributesOfItem(atPath: logPath))?[.size] as? UInt).map { Int($0) } ?? 0
    }

    /// Sends `signal` to the consumer's process group, on purpose.
    package func kill(_ signal: Int32 = SIGKILL) {
        let child: ChildProcess? = state.withLock { state in
            guard let child = state.child else { return nil }
            state.intendedKill = true
            return child
        }
        child?.signal(signal)
    }

    /// Waits until the consumer is not running, up to `timeout`; true when it ended.
    package func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Stops the consumer: SIGTERM, then SIGKILL after `grace`.
    package func stop(grace: Duration) async {
        guard isRunning else { return }
        kill(SIGTERM)
        if await waitForExit(timeout: grace) { return }
        kill(SIGKILL)
        _ = await waitForExit(timeout: .seconds(5))
    }

    /// The log's text so far, from byte `offset` on.
    package func log(from offset: Int = 0) -> String {
        guard let data = FileManager.default.contents(atPath: logPath), offset < data.count else { return "" }
        return String(decoding: data[offset...], as: UTF8.self)
    }

    /// The last `count` non-empty lines of the log.
    package func logTail(_ count: Int) -> [String] {
        Array(log().split(separator: "\n", omittingEmptySubsequences: true).suffix(count).map(String.init))
    }
}
