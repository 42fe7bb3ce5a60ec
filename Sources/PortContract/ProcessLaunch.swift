import Foundation
import Synchronization

/// Starts child processes one at a time across the whole program.
///
/// Foundation's `Process.run()` on Linux can crash when two threads call it at once (seen
/// here as a bad pointer in its argument copying while tests and the command handler both
/// launched processes), so every launch in this project goes through this one lock.
public enum ProcessLaunch {
    private static let lock = Mutex(())

    /// Runs `process.run()` under the program-wide launch lock.
    public static func run(_ process: Process) throws {
        try lock.withLock { _ in try process.run() }
    }
}
