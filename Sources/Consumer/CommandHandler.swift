import ChildProcesses
public import Logging
public import PortContract
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// One line a command printed: a directive that drives the run, or a log line.
public enum CommandOutputLine: Sendable, Equatable {
    /// `::port::link URL`: add a link.
    case link(String)
    /// `::port::label TEXT`: set the status label.
    case label(String)
    /// `::port::summary TEXT`: set the summary.
    case summary(String)
    /// `::port::entity {json}`: upsert an entity (`blueprint` defaults to the run's).
    case entity(JSONObject)
    /// Anything else: a log line.
    case log(String)
    /// A `::port::` line that cannot be read: logged with the reason.
    case invalid(line: String, reason: String)

    /// Reads one stdout line of the command protocol.
    public init(parsing line: String) {
        guard line.hasPrefix("::port::") else {
            self = .log(line)
            return
        }
        let rest = line.dropFirst(8)
        let name = rest.prefix { $0 != " " }
        let argument = rest.dropFirst(name.count).trimmingWhitespace()
        switch name {
        case "link" where !argument.isEmpty: self = .link(argument)
        case "label" where !argument.isEmpty: self = .label(argument)
        case "summary" where !argument.isEmpty: self = .summary(argument)
        case "entity":
            guard let object = (try? JSONValue.parse(argument))?.objectValue, object["identifier"]?.stringValue != nil
            else {
                self = .invalid(line: line, reason: "::port::entity needs a JSON object with an identifier")
                return
            }
            self = .entity(object)
        default:
            self = .invalid(line: line, reason: "unknown or empty directive ::port::\(name)")
        }
    }
}

/// Runs a process per action (the `command` built-in handler).
///
/// The process gets the inputs as JSON on stdin and as `PORT_INPUT_<NAME>` variables (but
/// secret inputs only on stdin: a process's environment is readable by others), plus
/// `PORT_RUN_ID`, `PORT_ACTION`, `PORT_BLUEPRINT`, `PORT_ENTITY` and `PORT_USER`. Its stdout
/// lines become run logs, in batches, except `::port::` directives. Exit 0 means SUCCESS;
/// any other status FAILURE with the last stderr lines; past `timeout` it is killed.
public struct CommandHandler: Sendable {
    /// The program and its arguments.
    public var command: [String]
    /// The working directory, if not the consumer's.
    public var directory: String?
    /// Extra environment variables.
    public var environment: [String: String] = [:]
    /// How long the process may run.
    public var timeout: Duration = .seconds(300)
    /// Log lines sent together at most.
    public var batchSize = 20

    /// A handler running `command`.
    public init(command: [String], directory: String? = nil, timeout: Duration = .seconds(300)) {
        self.command = command
        self.directory = directory
        self.timeout = timeout
    }

    /// The handler as a `RunHandler`.
    public var handler: RunHandler { { context in try await run(context) } }

    /// The variables a run's process gets.
    public static func environment(for context: RunContext) -> [String: String] {
        var variables: [String: String] = [
            "PORT_RUN_ID": context.runID, "PORT_ACTION": context.action,
            "PORT_BLUEPRINT": context.blueprint ?? "", "PORT_ENTITY": context.invocation.entityIdentifier ?? "",
            "PORT_USER": context.user ?? "",
        ]
        for (name, value) in context.inputs where !context.secretInputs.contains(name) {
            let key = String(name.uppercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
            variables["PORT_INPUT_" + key] = value.stringValue ?? value.compactText
        }
        return variables
    }

    private func run(_ context: RunContext) async throws {
        try await execute(
            input: JSONValue.object(context.inputs).compactBytes,
            variables: Self.environment(for: context)
        ) { lines in try await follow(lines, context: context) }
    }

    /// Runs the command for a change-log event: the message on stdin, `PORT_CHANGE_ACTION`,
    /// `PORT_BLUEPRINT`, `PORT_ENTITY` and `PORT_RUN_ID` set; its lines go to `logger`.
    public func run(for event: EntityChangeEvent, logger: Logger) async throws {
        let variables = [
            "PORT_CHANGE_ACTION": event.action, "PORT_BLUEPRINT": event.blueprint, "PORT_ENTITY": event.entity,
            "PORT_RUN_ID": event.runID ?? "",
        ]
        try await execute(input: event.message.compactBytes, variables: variables) { lines in
            for await line in lines {
                logger.info("\(line)", metadata: ["blueprint": "\(event.blueprint)", "entity": "\(event.entity)"])
            }
        }
    }

    /// Starts the command with `input` on stdin, hands its stdout lines to `follow`, and
    /// throws unless it exits 0 within the timeout.
    private func execute(
        input: [UInt8],
        variables: [String: String],
        follow: (AsyncStream<String>) async throws -> Void
    ) async throws {
        guard let executable = command.first else { throw CommandFailure(message: "the handler has no command") }
        // posix_spawn, not Foundation's Process: Process leaked two pipe descriptors per run
        // and, past about 1,300 open descriptors, crashed in Process.run() (seen under load).
        let stdin: (read: Int32, write: Int32)
        let stdout: (read: Int32, write: Int32)
        let stderr: (read: Int32, write: Int32)
        let child: ChildProcess
        do {
            stdin = try ChildProcess.makePipe()
            stdout = try ChildProcess.makePipe()
            stderr = try ChildProcess.makePipe()
            defer {
                // The child holds its own copies of these ends.
                close(stdin.read)
                close(stdout.write)
                close(stderr.write)
            }
            child = try ChildProcess.spawn(
                ["/usr/bin/env"] + (directory.map { ["-C", $0] } ?? []) + command,
                environment: ProcessInfo.processInfo.environment.merging(environment) { $1 }.merging(variables) { $1 },
                input: .descriptor(stdin.read),
                output: .descriptor(stdout.write),
                error: .descriptor(stderr.write)
            )
        } catch {
            throw CommandFailure(message: "cannot start \(command.joined(separator: " ")): \(error)")
        }
        // Each reader closes its end once it has read to the end.
        writeInput(input, to: stdin.write)
        let errorTail = StderrTail(stderr.read)
        let timedOut = TimeoutFlag()
        let termination = try await withTaskCancellationHandler {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    // The timeout: cancelled once the command has ended.
                    try await Task.sleep(for: timeout)
                    timedOut.set()
                    // The command leads its own process group: signal the whole group, since
                    // what it started (a shell's children) keeps the pipes open.
                    child.signal(SIGTERM)
                    try await Task.sleep(for: .seconds(5))
                    child.signal(SIGKILL)
                }
                defer { group.cancelAll() }
                try await follow(lines(of: stdout.read))
                return await child.wait()
            }
        } onCancel: {
            // The run is cut off (a shutdown past its grace period): stop the command's
            // process group as a timeout would, SIGKILL five seconds after SIGTERM.
            child.signal(SIGTERM)
            detachThread {
                sleep(5)
                child.signal(SIGKILL)
            }
        }
        if Task.isCancelled { throw CancellationError() }
        let status = termination.bySignal ? 128 + termination.status : termination.status
        if timedOut.isSet {
            throw CommandFailure(message: "\(executable) timed out after \(timeout) and was killed")
        }
        guard status == 0 else {
            let tail = await errorTail.lastLines()
            throw CommandFailure(
                message: "\(executable) exited with status \(status)"
                    + (tail.isEmpty ? "" : ": " + tail.joined(separator: " | "))
            )
        }
    }

    /// Writes the command's input from a thread of its own, so that a command that does not
    /// read it cannot block a task. SIGPIPE is blocked on that thread and taken back after
    /// the write: a command that exits without reading gets its input dropped, and the
    /// consumer is not killed.
    private func writeInput(_ input: [UInt8], to descriptor: Int32) {
        detachThread {
            var pipeSignal = sigset_t()
            sigemptyset(&pipeSignal)
            sigaddset(&pipeSignal, SIGPIPE)
            pthread_sigmask(SIG_BLOCK, &pipeSignal, nil)
            writeAll(descriptor, input)
            close(descriptor)
            var timeout = timespec(tv_sec: 0, tv_nsec: 0)
            _ = sigtimedwait(&pipeSignal, nil, &timeout)
        }
    }

    /// Applies each line of the protocol; log lines go out in batches.
    private func follow(_ lines: AsyncStream<String>, context: RunContext) async throws {
        var batch: [String] = []
        var links: [String] = []
        func flush() async throws {
            guard !batch.isEmpty else { return }
            try await context.log(batch.joined(separator: "\n"))
            batch.removeAll()
        }
        for await line in lines {
            switch CommandOutputLine(parsing: line) {
            case .log(let text):
                batch.append(text)
                if batch.count >= batchSize { try await flush() }
                continue
            case .link(let url):
                try await flush()
                links.append(url)
                try await context.setLinks(links)
            case .label(let text):
                try await flush()
                try await context.setStatusLabel(text)
            case .summary(let text):
                try await flush()
                try await context.setSummary(text)
            case .entity(let entity):
                try await flush()
                guard let blueprint = entity["blueprint"]?.stringValue ?? context.blueprint else {
                    try await context.log("::port::entity needs a blueprint (the action has none)")
                    continue
                }
                try await context.upsertEntity(
                    blueprint: blueprint,
                    identifier: entity["identifier"]?.stringValue ?? "",
                    title: entity["title"]?.stringValue,
                    properties: entity["properties"]?.objectValue ?? [:],
                    relations: entity["relations"]?.objectValue ?? [:]
                )
            case .invalid(let line, let reason):
                batch.append("\(line)  [ignored: \(reason)]")
            }
        }
        try await flush()
    }

    /// The lines of a pipe, read on a thread of its own. Not on a `DispatchQueue.global()`
    /// thread: on Linux Swift's tasks run on those same few threads (about one per core), so
    /// two commands' blocked readers were enough to stop every task of the consumer,
    /// the timers that kill a command past its timeout included.
    private func lines(of descriptor: Int32) -> AsyncStream<String> {
        AsyncStream { continuation in
            detachThread {
                var pending: [UInt8] = []
                while let chunk = readChunk(descriptor) {
                    pending.append(contentsOf: chunk)
                    while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                        continuation.yield(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                        pending.removeSubrange(pending.startIndex...newline)
                    }
                }
                if !pending.isEmpty { continuation.yield(String(decoding: pending, as: UTF8.self)) }
                close(descriptor)
                continuation.finish()
            }
        }
    }
}

/// Why a command failed the run.
public struct CommandFailure: Error, Sendable, CustomStringConvertible {
    /// What happened.
    public let message: String
    /// The message.
    public var description: String { message }
}

/// Set once the timeout has killed the process.
private final class TimeoutFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func set() { value.store(true, ordering: .relaxed) }
    var isSet: Bool { value.load(ordering: .relaxed) }
}

/// Keeps the last lines a process wrote to stderr, read on a thread of its own (as stdout).
///
/// An unstructured task on purpose: the read blocks a thread until every writer of the pipe
/// has gone (a daemon the command started may keep it open), and no cancellation reaches a
/// blocking read, so a task group that owned it could wait on it forever. Only a failure
/// awaits it.
private final class StderrTail: Sendable {
    private let done: Task<[String], Never>

    init(_ descriptor: Int32) {
        done = Task {
            await onThreadOfItsOwn {
                let text = String(decoding: readAll(descriptor), as: UTF8.self)
                close(descriptor)
                return text.split(whereSeparator: \.isNewline).suffix(5).map(String.init)
            }
        }
    }

    func lastLines() async -> [String] { await done.value }
}
