import AsyncHTTPClient
public import Logging
import NIOCore
import NIOHTTP1
public import PortContract

#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif

/// Port's REST API as the consumer uses it: a cached token, retries, pooled connections.
///
/// - The token is reused until `refreshMargin` before `expiresIn` runs out, and fetched
///   again once when a call answers 401.
/// - 429, 5xx and network errors are retried by the `RetryPolicy`; other errors are final.
public actor PortClient {
    /// A call that failed for good: Port's status, error code and message.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// The HTTP status, or 0 when no response arrived.
        public let status: Int
        /// Port's `error` code, e.g. `run_exhausted`.
        public let code: String
        /// Port's message, or the network error.
        public let message: String
        /// `status code: message`.
        public var description: String { "\(status) \(code): \(message)" }
    }

    private let baseURL: String
    private let clientID: String
    private let clientSecret: String
    /// The client secret, whose first 32 bytes are the key of secret inputs.
    package nonisolated var decryptionSecret: String { clientSecret }
    private let http: HTTPClient
    private let retry: RetryPolicy
    private let refreshMargin: Duration
    private let requestTimeout: TimeAmount
    private let now: @Sendable () -> Date
    private let logger: Logger
    private var token: (value: String, expiresAt: Date)?
    private var tokenRequest: Task<(String, Date), any Error>?
    /// How many access tokens were fetched (for tests and metrics).
    public private(set) var tokensFetched = 0

    /// A client of the API at `apiURL` (with `/v1`), with its own connection pool.
    public init(
        apiURL: String,
        clientID: String,
        clientSecret: String,
        retry: RetryPolicy = RetryPolicy(),
        refreshMargin: Duration = .seconds(60),
        requestTimeout: Duration = .seconds(30),
        maxConnections: Int = 16,
        now: @escaping @Sendable () -> Date = { Date() },
        logger: Logger = Logger(label: "port-consumer.api")
    ) {
        var base = apiURL
        while base.hasSuffix("/") { base.removeLast() }
        baseURL = base
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.retry = retry
        self.refreshMargin = refreshMargin
        // Whole nanoseconds: a 500 ms timeout stays 500 ms (it was cut to whole seconds: 0).
        self.requestTimeout = .nanoseconds(
            requestTimeout.components.seconds * 1_000_000_000 + requestTimeout.components.attoseconds / 1_000_000_000
        )
        self.now = now
        self.logger = logger
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(60))
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: maxConnections
        )
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Closes the connection pool.
    public func shutdown() async {
        try? await http.shutdown()
    }

    /// A valid access token: the cached one, or a new one when it is about to expire.
    public func accessToken() async throws -> String {
        if let token, token.expiresAt.timeIntervalSince(now()) > refreshMargin.secondsDouble { return token.value }
        if let tokenRequest { return try await tokenRequest.value.0 }
        // One request shared by every caller that arrives while it is in flight (the actor
        // lets them in at the await). A task of its own, not a child of the first caller:
        // that caller's cancellation must not fail the others' shared request.
        let request = Task { try await self.fetchToken() }
        tokenRequest = request
        defer { tokenRequest = nil }
        let (value, expiresAt) = try await request.value
        token = (value, expiresAt)
        return value
    }

    private func fetchToken() async throws -> (String, Date) {
        let body: JSONValue = ["clientId": .string(clientID), "clientSecret": .string(clientSecret)]
        let answer = try await send(.POST, "/auth/access_token", body: body, authenticated: false)
        guard let value = answer["accessToken"]?.stringValue else {
            throw Failure(status: 200, code: "bad_response", message: "no accessToken in Port's answer")
        }
        tokensFetched += 1
        let lifetime = answer["expiresIn"]?.doubleValue ?? 3600
        return (value, now().addingTimeInterval(lifetime))
    }

    /// The HTTP methods of Port's API (the consumer's own type: no NIO type in its API).
    public enum Method: String, Sendable, CaseIterable {
        /// Reads.
        case GET
        /// Creates.
        case POST
        /// Replaces.
        case PUT
        /// Changes.
        case PATCH
        /// Deletes.
        case DELETE

        var nio: HTTPMethod { HTTPMethod(rawValue: rawValue) }
    }

    /// One call to the API (`path` under `/v1`), retried as the policy says, with the
    /// token refreshed once on a 401. Returns Port's JSON answer.
    @discardableResult
    public func send(
        _ method: Method,
        _ path: String,
        body: JSONValue? = nil,
        authenticated: Bool = true
    ) async throws -> JSONValue {
        var attempt = 0
        var refreshedToken = false
        var rateLimitWaited: Duration = .zero
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: baseURL + path)
            request.method = method.nio
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "User-Agent", value: "port-consumer")
            if authenticated { request.headers.add(name: "Authorization", value: "Bearer \(try await accessToken())") }
            if let body { request.body = .bytes(ByteBuffer(bytes: body.compactBytes)) }
            var status: Int?
            var headers: [String: String] = [:]
            var answer: JSONValue?
            var networkError: String?
            do {
                let response = try await http.execute(request, timeout: requestTimeout)
                status = Int(response.status.code)
                for header in response.headers { headers[header.name] = header.value }
                let bytes = try await response.body.collect(upTo: 16 << 20)
                answer = try? JSONValue.parse(Array(buffer: bytes))
            } catch {
                status = nil
                networkError = "\(error)"
            }
            if status == 401, authenticated, !refreshedToken {
                refreshedToken = true
                token = nil
                attempt -= 1
                continue
            }
            switch retry.decision(status: status, headers: headers, attempt: attempt, now: now()) {
            case .retry(let delay):
                // Port asked to wait: not an attempt, up to the policy's total 429 wait.
                if !retry.countsAsAttempt(status: status, waited: rateLimitWaited) {
                    attempt -= 1
                    rateLimitWaited += delay
                }
                logger.debug(
                    "retrying Port API call",
                    metadata: [
                        "path": "\(path)", "status": "\(status.map(String.init) ?? "network")", "delay": "\(delay)",
                    ]
                )
                try await Task.sleep(for: delay)
                continue
            case .done, .giveUp:
                break
            }
            guard let status else {
                throw Failure(status: 0, code: "network", message: networkError ?? "no response")
            }
            guard (200..<300).contains(status) else {
                throw Failure(
                    status: status,
                    code: answer?["error"]?.stringValue ?? "http_\(status)",
                    message: answer?["message"]?.stringValue ?? "no message"
                )
            }
            return answer ?? ["ok": true]
        }
    }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    var secondsDouble: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
