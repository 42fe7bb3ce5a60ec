import Synchronization

/// Whether jq sources compile, checked cheaply: libjq binds its builtins (parsing their jq
/// source) on every compile, which costs far more than the sources themselves, so a batch
/// is compiled once as one program of definitions; only when that fails is each compiled
/// alone, to name the one at fault. Sources known to compile are remembered.
/// With a ``JQCompileRecord`` (``remember(in:)``), the fixtures' sources that compiled in an
/// earlier process are known too (``errors(inFixtures:)``).
public enum JQSyntax {
    private static let known = Mutex<Set<String>>([])
    private static let sharedRecord = Mutex<JQCompileRecord?>(nil)

    /// Keeps the fixtures' sources that compile in `record` too, and trusts what it holds;
    /// nil stops.
    public static func remember(in record: JQCompileRecord?) {
        sharedRecord.withLock { $0 = record }
    }

    /// jq's compile error for each source that does not compile, by its index; empty when
    /// all do.
    public static func errors(in sources: [String]) -> [Int: JQError] {
        errors(in: sources, record: nil)
    }

    /// ``errors(in:)`` for the fixtures' sources, checked at every start: those recorded by
    /// ``remember(in:)``'s record are not compiled again, and those that compile are
    /// recorded. Sources created through the API are never recorded, so the record holds
    /// only what the fixtures hold.
    public static func errors(inFixtures sources: [String]) -> [Int: JQError] {
        errors(in: sources, record: sharedRecord.withLock { $0 })
    }

    /// ``errors(in:)`` with `record` in place of the one set by ``remember(in:)``.
    package static func errors(in sources: [String], record: JQCompileRecord?) -> [Int: JQError] {
        var unknown = known.withLock { known in sources.filter { !known.contains($0) } }
        if let record, !unknown.isEmpty {
            let recorded = Set(unknown.filter(record.contains))
            known.withLock { $0.formUnion(recorded) }
            unknown.removeAll(where: recorded.contains)
        }
        guard !unknown.isEmpty else { return [:] }
        // One program: `def _0: SOURCE;` for each, on lines of their own (a comment in a
        // source ends at its line), then `_0, _1, ...`: libjq drops a definition nothing
        // calls before it looks for undefined functions, so each must be called.
        let names = unknown.indices.map { "__port_emulator_check_\($0)" }
        let combined =
            zip(names, unknown).map { "def \($0):\n\($1)\n;" }.joined(separator: "\n")
            + "\n" + names.joined(separator: ", ")
        if unknown.count > 1, (try? JQProgram(combined)) != nil {
            known.withLock { $0.formUnion(unknown) }
            unknown.forEach { record?.insert($0) }
            return [:]
        }
        var errors: [Int: JQError] = [:]
        for (index, source) in sources.enumerated() where unknown.contains(source) {
            do {
                _ = try JQProgram(source)
                known.withLock { _ = $0.insert(source) }
                record?.insert(source)
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
