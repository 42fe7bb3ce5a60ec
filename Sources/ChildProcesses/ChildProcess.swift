import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

#if canImport(Glibc)
package import Glibc
#elseif canImport(Darwin)
package import Darwin
#endif

/// A child process started with `posix_spawn`, in its own process group, with every signal
/// unblocked and at its default action.
///
/// Its own module, not swift-subprocess: that library runs a child inside the scope of one
/// call (`run(...) { execution in ... }`), while `verify` holds its consumer under test
/// across scenarios, restarts and chaos signals, and the command handler streams stdout
/// lines while a timeout watches; both need the process group signalled from elsewhere.
///
/// Foundation's `Process` starts children with the signal mask of the thread that launches
/// them; Swift's concurrency threads block SIGTERM and most other signals, so such a child
/// could not be stopped gracefully. This starts it clean, with stdin from `/dev/null` and
/// stdout and stderr appended to one file.
package final class ChildProcess: Sendable {
    /// How a child ended.
    package struct Termination: Sendable, Equatable, CustomStringConvertible {
        /// The exit status, or the signal number that ended it.
        package let status: Int32
        /// Whether a signal ended it.
        package let bySignal: Bool

        /// `exit status 1` or `killed by signal 9`.
        package var description: String { bySignal ? "killed by signal \(status)" : "exit status \(status)" }
    }

    /// The child's process id (also its process group id).
    package let pid: pid_t
    private let ended = EndingBox()

    private init(pid: pid_t) {
        self.pid = pid
        let ended = ended
        // waitpid blocks: it gets a thread of its own, off Swift's cooperative pool; it
        // records the end and resumes the waiters, then the thread ends.
        detachThread { [ended] in
            var status: Int32 = 0
            while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
            let signal = status & 0x7f
            let termination =
                signal == 0
                ? Termination(status: (status >> 8) & 0xff, bySignal: false)
                : Termination(status: signal, bySignal: true)
            let (waiters, observers) = ended.state.withLock { ending in
                ending.termination = termination
                defer { (ending.waiters, ending.observers) = ([], []) }
                return (ending.waiters, ending.observers)
            }
            for observer in observers { observer.body(termination) }
            for waiter in waiters { waiter.resume(returning: termination) }
        }
    }

    /// Where one of the child's standard streams goes.
    package enum Stream: Sendable {
        /// `/dev/null`.
        case null
        /// A file, opened for appending (created if missing).
        case file(String)
        /// A descriptor of this process (e.g. one end of a `Pipe`), duplicated into the child.
        case descriptor(Int32)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34+), which Swift's Glibc module
    /// does not export; nil where the C library has none.
    private static let closeFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? =
        {
            #if os(Linux)
            let everywhere: UnsafeMutableRawPointer? = nil  // glibc's RTLD_DEFAULT
            #else
            let everywhere = UnsafeMutableRawPointer(bitPattern: -2)  // Darwin's RTLD_DEFAULT
            #endif
            guard let symbol = dlsym(everywhere, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
            return unsafeBitCast(
                symbol,
                to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self
            )
        }()

    /// Starts `arguments` (the first found on `PATH`) with exactly `environment`, its output
    /// appended to `outputPath` (stdout and stderr both), reading nothing.
    package static func spawn(
        _ arguments: [String],
        environment: [String: String],
        outputPath: String
    ) throws -> ChildProcess {
        try spawn(arguments, environment: environment, input: .null, output: .file(outputPath), error: nil)
    }

    /// Starts `arguments` (the first found on `PATH`) with exactly `environment` and these
    /// standard streams; `error` nil sends stderr where stdout goes. Descriptors passed in
    /// stay open in this process: close the child's ends after the call.
    package static func spawn(
        _ arguments: [String],
        environment: [String: String],
        input: Stream,
        output: Stream,
        error: Stream?
    ) throws -> ChildProcess {
        guard let program = arguments.first else { throw ChildProcessError(message: "no command given") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        func route(_ stream: Stream, to target: Int32, flags: Int32) {
            switch stream {
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", flags, 0)
            case .file(let path):
                posix_spawn_file_actions_addopen(&actions, target, path, flags | O_CREAT | O_APPEND, 0o644)
            case .descriptor(let descriptor): posix_spawn_file_actions_adddup2(&actions, descriptor, target)
            }
        }
        route(input, to: 0, flags: O_RDONLY)
        route(output, to: 1, flags: O_WRONLY)
        if let error { route(error, to: 2, flags: O_WRONLY) } else { posix_spawn_file_actions_adddup2(&actions, 1, 2) }
        // Nothing else: NIO's sockets are not close-on-exec, and a child holding the emulator's
        // connections would keep a connection the broker closed open for its whole life.
        if let closeFrom = Self.closeFrom { _ = closeFrom(&actions, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes,
            Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)
        )

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        // The PATH of the environment given is searched here, as execvpe does: changing this
        // process's own PATH for posix_spawnp would race with every thread reading the environment.
        guard let executable = resolve(program, path: environment["PATH"]) else {
            throw ChildProcessError(message: "cannot start \(program): not found on PATH")
        }
        var pid: pid_t = 0
        let result = spawnLock.withLock { _ in posix_spawn(&pid, executable, &actions, &attributes, argv, envp) }
        guard result == 0 else {
            throw ChildProcessError(message: "cannot start \(program): \(String(cString: strerror(result)))")
        }
        return ChildProcess(pid: pid)
    }

    /// Runs `arguments` to its end with `input` on stdin and returns how it ended and what it
    /// printed on stdout and stderr (through temporary files, so nothing blocks on a pipe).
    package static func run(
        _ arguments: [String],
        environment: [String: String],
        input: [UInt8] = []
    ) async throws -> (termination: Termination, output: String, errors: String) {
        let directory = FileManager.default.temporaryDirectory.path + "/child-process-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let (inputPath, outputPath, errorPath) = (directory + "/in", directory + "/out", directory + "/err")
        try Data(input).write(to: URL(fileURLWithPath: inputPath))
        let child = try spawn(
            arguments,
            environment: environment,
            input: .file(inputPath),
            output: .file(outputPath),
            error: .file(errorPath)
        )
        let termination = await child.wait()
        func text(_ path: String) -> String {
            String(decoding: FileManager.default.contents(atPath: path) ?? Data(), as: UTF8.self)
        }
        return (termination, text(outputPath), text(errorPath))
    }

    /// A pipe whose two ends are closed on `exec`, so that no other child inherits them
    /// (the end handed to a child through `Stream.descriptor` is duplicated, not inherited).
    package static func makePipe() throws -> (read: Int32, write: Int32) {
        // pipe2 is not visible from Swift: pipe, then mark both ends, under the lock every
        // spawn here takes, so that no child of ours starts in between.
        try spawnLock.withLock { _ in
            var descriptors: [Int32] = [0, 0]
            guard pipe(&descriptors) == 0 else {
                throw ChildProcessError(message: "cannot create a pipe: \(String(cString: strerror(errno)))")
            }
            for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
            return (descriptors[0], descriptors[1])
        }
    }

    /// How it ended, once it has.
    package var termination: Termination? { ended.state.withLock { $0.termination } }

    /// Waits until it ends.
    package func wait() async -> Termination {
        await withCheckedContinuation { continuation in
            let now = ended.state.withLock { ending -> Termination? in
                if let termination = ending.termination { return termination }
                ending.waiters.append(continuation)
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// Calls `body` once it ends (at once if it has), on the thread that saw it end.
    package func whenEnded(_ body: @escaping @Sendable (Termination) -> Void) {
        let now = ended.state.withLock { ending -> Termination? in
            if let termination = ending.termination { return termination }
            ending.observers.append(EndingBox.Observer(body: body))
            return nil
        }
        if let now { body(now) }
    }

    /// Sends `signal` to its whole process group.
    package func signal(_ signal: Int32) {
        guard termination == nil else { return }
        _ = kill(-pid, signal)
    }

    /// `program` itself when it names a path, else the first executable of that name in the
    /// directories of `path` (this process's `PATH` when nil).
    private static func resolve(_ program: String, path: String?) -> String? {
        if program.contains("/") { return program }
        let directories = (path ?? ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        for directory in directories {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    private static let spawnLock = Mutex(())
}

/// How a child ended, once it has, and the callers of `wait()` until then.
private final class EndingBox: Sendable {
    struct Ending {
        var termination: ChildProcess.Termination?
        var waiters: [CheckedContinuation<ChildProcess.Termination, Never>] = []
        var observers: [Observer] = []
    }
    /// A `whenEnded` callback (in a struct: a bare closure in a `Mutex` grows a thunk per call).
    struct Observer: Sendable {
        let body: @Sendable (ChildProcess.Termination) -> Void
    }
    let state = Mutex(Ending())
}

/// A child process that could not be started.
package struct ChildProcessError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    package let message: String
    /// The message.
    package var description: String { message }
}

/// Runs blocking `work` (a pipe read to its end, for example) on a thread of its own and
/// returns its result: never on the few threads Swift's tasks run on, where a handful of
/// blocked reads stop every task of the process.
package func onThreadOfItsOwn<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
    await withCheckedContinuation { continuation in
        detachThread { continuation.resume(returning: work()) }
    }
}
