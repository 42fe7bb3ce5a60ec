import ChildProcesses
import Foundation
import PortContract
import Synchronization

/// The consumer under test, run as a child process: its output goes to a log file, and
/// `verify` can see it exit, kill it and start it again.
public final class ConsumerProcess: Sendable {
    /// One end of the consumer's life.
    public struct Exit: Sendable, Equatable, CustomStringConvertible {
        /// When it ended.
        public let time: Date
        /// Its exit status, or the signal that ended it.
        public let status: Int32
        /// Whether a signal ended it.
        public let bySignal: Bool
        /// Whether `verify` killed it on purpose (a chaos event or the final stop).
        public let intended: Bool

        /// `exit status 1` or `killed by signal 9`.
        public var description: String { bySignal ? "killed by signal \(status)" : "exit status \(status)" }
    }

    private struct State {
        var child: ChildProcess?
        var exits: [Exit] = []
        var starts = 0
        var intendedKill = false
    }

    /// The command line, as given.
    public let command: [String]
    /// The log file its stdout and stderr go to.
    public let logPath: String
    private let environment: [String: String]
    private let state = Mutex(State())

    /// A consumer to run as `command` with `environment` added to this process's own.
    public init(command: [String], environment: [String: String], logPath: String) {
        self.command = command
        self.environment = environment
        self.logPath = logPath
    }

    /// Starts (or starts again) the command; a command that cannot be started is an error.
    public func start() throws(ScenarioError) {
        let startNumber = state.withLock { $0.starts + 1 }
        if startNumber > 1, let log = FileHandle(forWritingAtPath: logPath) {
            log.seekToEndOfFile()
            log.write(Data("\n--- port-emulator verify: consumer start #\(startNumber) ---\n".utf8))
            try? log.close()
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
    public var isRunning: Bool { state.withLock { $0.child != nil } }

    /// How many times it was started.
    public var starts: Int { state.withLock { $0.starts } }

    /// Every exit so far, oldest first.
    public var exits: [Exit] { state.withLock { $0.exits } }

    /// The log's size now: output after this offset came from a later start.
    public var logSize: Int {
        ((try? FileManager.default.attributesOfItem(atPath: logPath))?[.size] as? NSNumber)?.intValue ?? 0
    }

    /// Sends `signal` to the consumer's process group, on purpose.
    public func kill(_ signal: Int32 = SIGKILL) {
        let child: ChildProcess? = state.withLock { state in
            guard let child = state.child else { return nil }
            state.intendedKill = true
            return child
        }
        child?.signal(signal)
    }

    /// Waits until the consumer is not running, up to `timeout`; true when it ended.
    public func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            guard ContinuousClock.now < deadline else { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Stops the consumer: SIGTERM, then SIGKILL after `grace`.
    public func stop(grace: Duration) async {
        guard isRunning else { return }
        kill(SIGTERM)
        if await waitForExit(timeout: grace) { return }
        kill(SIGKILL)
        _ = await waitForExit(timeout: .seconds(5))
    }

    /// The log's text so far, from byte `offset` on.
    public func log(from offset: Int = 0) -> String {
        guard let data = FileManager.default.contents(atPath: logPath), offset < data.count else { return "" }
        return String(decoding: data[offset...], as: UTF8.self)
    }

    /// The last `count` non-empty lines of the log.
    public func logTail(_ count: Int) -> [String] {
        Array(log().split(separator: "\n", omittingEmptySubsequences: true).suffix(count).map(String.init))
    }
}
