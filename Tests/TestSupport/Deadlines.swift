/// Raised when a condition was not met before its deadline.
public struct DeadlineExceeded: Error, CustomStringConvertible {
    /// What was awaited.
    public let what: String
    /// A sentence naming it.
    public var description: String { "deadline exceeded while waiting for \(what)" }
}

/// Runs `body`, failing with `DeadlineExceeded` if it has not finished within `limit`.
public func withDeadline<Result: Sendable>(
    _ limit: Duration,
    _ what: String,
    _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let result = first else { throw DeadlineExceeded(what: what) }
        return result
    }
}

/// Polls `condition` every 20 ms until it holds, failing after `limit`.
public func waitUntil(
    _ what: String,
    within limit: Duration = .seconds(30),
    _ condition: @escaping @Sendable () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while try await !condition() {
        guard ContinuousClock.now < deadline else { throw DeadlineExceeded(what: what) }
        try await Task.sleep(for: .milliseconds(20))
    }
}
