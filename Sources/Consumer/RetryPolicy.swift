import PortContract

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// When to retry a call to Port's API: 429 (after `Retry-After` or `x-ratelimit-reset`),
/// 5xx and network errors, with exponential backoff and jitter, up to `maxAttempts`. Other
/// statuses are final. A 429 is Port asking the client to wait, not a failure: it does not
/// count as an attempt while the call has waited on 429s less than `maxRateLimitWait`.
public struct RetryPolicy: Sendable, Equatable {
    /// Attempts in all, the first included (429s within `maxRateLimitWait` not counted).
    public var maxAttempts = 6
    /// How long one call may wait on 429s in all before they count as attempts.
    public var maxRateLimitWait: Duration = .seconds(300)
    /// The delay before the first retry (before jitter).
    public var baseDelay: Duration = .milliseconds(100)
    /// The longest delay between two attempts.
    public var maxDelay: Duration = .seconds(10)

    /// What to do after one attempt.
    public enum Decision: Sendable, Equatable {
        /// The answer is final (success, or an error retrying cannot fix).
        case done
        /// Try again after this long.
        case retry(after: Duration)
        /// Retryable, but the attempts are used up.
        case giveUp
    }

    /// The default policy.
    public init() {}

    /// The decision after attempt number `attempt` (1-based) got `status` (`nil`: no
    /// response, a network error). `jitter` in 0..<1 spreads retries of many clients.
    public func decision(
        status: Int?,
        headers: [String: String] = [:],
        attempt: Int,
        now: Date = Date(),
        jitter: Double = Double.random(in: 0..<1)
    ) -> Decision {
        let retryable = status.map { $0 == 429 || (500...599).contains($0) } ?? true
        guard retryable else { return .done }
        guard attempt < maxAttempts else { return .giveUp }
        if status == 429, let wait = Self.rateLimitWait(headers, now: now) { return .retry(after: min(wait, maxDelay)) }
        return .retry(after: backoff(attempt: attempt, jitter: jitter))
    }

    /// Whether the retry after `status` uses up an attempt: a 429 does not, while the call
    /// has waited on 429s (`waited`) less than `maxRateLimitWait`.
    public func countsAsAttempt(status: Int?, waited: Duration) -> Bool {
        !(status == 429 && waited < maxRateLimitWait)
    }

    /// `baseDelay × 2^(attempt−1)`, capped at `maxDelay`, scaled by 0.5–1.0 with `jitter`.
    public func backoff(attempt: Int, jitter: Double) -> Duration {
        let exponential = baseDelay * (1 << min(attempt - 1, 20))
        return min(exponential, maxDelay) * (0.5 + jitter / 2)
    }

    /// How long a 429 asks to wait: `Retry-After` (seconds or an HTTP date), else
    /// `x-ratelimit-reset` (epoch seconds).
    static func rateLimitWait(_ headers: [String: String], now: Date) -> Duration? {
        let lowercased = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }) { first, _ in first }
        if let value = lowercased["retry-after"]?.trimmingWhitespace() {
            if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
            if let date = httpDate(value) {
                return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000))
            }
        }
        if let value = lowercased["x-ratelimit-reset"], let epoch = Double(value) {
            return .milliseconds(Int64(max(0, epoch - now.timeIntervalSince1970) * 1000))
        }
        return nil
    }
}
