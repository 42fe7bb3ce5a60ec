import Synchronization

/// Whether jq sources compile, checked cheaply: libjq binds its builtins (parsing their jq
/// source) on every compile, which costs far more than the sources themselves, so a batch
/// is compiled once as one program of definitions; only when that fails is each compiled
/// alone, to name the one at fault. Sources known to compile are remembered.
public enum JQSyntax {
    private static let known = Mutex<Set<String>>([])

    /// jq's compile error for each source that does not compile, by its index; empty when
    /// all do.
    public static func errors(in sources: [String]) -> [Int: JQError] {
        let unknown = known.withLock { known in sources.filter { !known.contains($0) } }
        guard !unknown.isEmpty else { return [:] }
        // One program: `def _0: SOURCE;` for each, on lines of their own (a comment in a
        // source ends at its line), then `.`.
        let combined =
            unknown.enumerated().map { "def __port_emulator_check_\($0.offset):\n\($0.element)\n;" }
            .joined(separator: "\n") + "\n."
        if unknown.count > 1, (try? JQProgram(combined)) != nil {
            known.withLock { $0.formUnion(unknown) }
            return [:]
        }
        var errors: [Int: JQError] = [:]
        for (index, source) in sources.enumerated() where unknown.contains(source) {
            do {
                _ = try JQProgram(source)
                known.withLock { _ = $0.insert(source) }
            } catch let error as JQError {
                errors[index] = error
            } catch {
                errors[index] = JQError(stage: .compile, message: "\(error)")
            }
        }
        return errors
    }

    /// Throws jq's compile error when `source` does not compile.
    public static func check(_ source: String) throws(JQError) {
        if let error = errors(in: [source])[0] { throw error }
    }
}
