import Synchronization

/// Compiled jq programs by their source text: each source is compiled once and the program
/// shared (a program serializes its own runs).
public final class JQProgramCache: Sendable {
    private let programs = Mutex<[String: JQProgram]>([:])

    /// An empty cache.
    public init() {}

    /// The program for `source`, compiled on first use; throws jq's compile error.
    public func program(_ source: String) throws -> JQProgram {
        if let cached = programs.withLock({ $0[source] }) { return cached }
        let compiled = try JQProgram(source)
        programs.withLock { $0[source] = compiled }
        return compiled
    }
}
