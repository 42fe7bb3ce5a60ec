import JQ
import Synchronization

/// Compiled jq programs by source text, shared by every calculation property.
final class CompiledJQ: Sendable {
    static let shared = CompiledJQ()

    private let programs = Mutex<[String: JQProgram]>([:])

    /// The program for `source`, compiled once; throws jq's compile error.
    func program(_ source: String) throws -> JQProgram {
        if let program = programs.withLock({ $0[source] }) { return program }
        let compiled = try JQProgram(source)
        programs.withLock { $0[source] = compiled }
        return compiled
    }
}
