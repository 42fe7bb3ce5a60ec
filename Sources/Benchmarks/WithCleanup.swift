/// Runs `body`, then `cleanup` whichever way `body` ended (the cleanup awaited, unlike a
/// `defer`), and returns `body`'s value or rethrows its error.
func withCleanup<Value>(
    _ body: () async throws -> Value,
    cleanup: () async -> Void
) async throws -> Value {
    let result: Result<Value, any Error>
    do {
        result = .success(try await body())
    } catch {
        result = .failure(error)
    }
    await cleanup()
    return try result.get()
}
