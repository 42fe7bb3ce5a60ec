import AsyncHTTPClient
import Emulator
import NIOCore
import NIOHTTP1
public import PortContract
import PortKafka

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A client of a running emulator, as a user or a script drives it: triggers a run through
/// Port's API and follows it through the admin API's long-poll.
public struct EmulatorClient: Sendable {
    /// The API's base URL, without `/v1`.
    public let baseURL: String
    /// The client id the client authenticates with.
    public var clientID = "emulator-client-id"
    /// The client secret the client authenticates with.
    public var clientSecret = EmulatorConfiguration.defaultClientSecret

    /// A client of the emulator at `url`: its API URL with or without `/v1`.
    public init(url: String) throws(EmulatorClientError) {
        var base = url.trimmingWhitespace()
        while base.hasSuffix("/") { base.removeLast() }
        if base.hasSuffix("/v1") { base.removeLast(3) }
        guard let parsed = URL(string: base), let scheme = parsed.scheme, ["http", "https"].contains(scheme),
            parsed.host != nil
        else {
            throw EmulatorClientError(message: "'\(url)' is not an http(s) URL of port-emulator's API")
        }
        baseURL = base
    }

    /// A fresh access token for the client's credentials.
    public func accessToken() async throws(EmulatorClientError) -> String {
        let body: JSONValue = ["clientId": .string(clientID), "clientSecret": .string(clientSecret)]
        let answer = try await send("POST", "/v1/auth/access_token", body: body)
        guard let token = answer["accessToken"]?.stringValue else {
            throw EmulatorClientError(message: "the emulator answered no access token")
        }
        return token
    }

    /// Triggers a run of `action` (`POST /v1/actions/{action}/runs`) and returns the run.
    public func trigger(
        action: String,
        inputs: JSONObject,
        entity: String? = nil,
        user: String? = nil
    ) async throws(EmulatorClientError) -> JSONValue {
        let token = try await accessToken()
        var body: JSONObject = ["properties": .object(inputs)]
        body["entity"] = entity.map(JSONValue.string)
        var path = "/v1/actions/\(Self.escape(action))/runs"
        if let user { path += "?run_as=\(Self.escape(user))" }
        let answer = try await send("POST", path, body: .object(body), token: token)
        guard let run = answer["run"], run["id"]?.stringValue != nil else {
            throw EmulatorClientError(message: "the emulator answered no run")
        }
        return run
    }

    /// One long-poll of `GET /_emulator/runs/{id}/wait`: the run once it has changed past
    /// `after` (or finished), or as it is when `timeout` passes.
    public func wait(
        runID: String,
        after version: Int?,
        timeout: Duration
    ) async throws(EmulatorClientError)
        -> (run: JSONValue, timedOut: Bool)
    {
        var path = "/_emulator/runs/\(Self.escape(runID))/wait?timeout=\(timeout.wholeMilliseconds)ms"
        if let version { path += "&after=\(version)" }
        let answer = try await send("GET", path, requestTimeout: timeout + .seconds(30))
        guard let run = answer["run"] else { throw EmulatorClientError(message: "the emulator answered no run") }
        return (run, answer["timedOut"] == true)
    }

    /// This client with the tester's credentials, which the journal tells apart from a
    /// consumer's (see `EmulatorConfiguration.testerClientID`).
    public var asTester: EmulatorClient {
        var client = self
        client.clientID = EmulatorConfiguration.testerClientID
        client.clientSecret = EmulatorConfiguration.testerClientSecret
        return client
    }

    /// Sends one request and returns the status and the JSON answer, whatever the status;
    /// throws only when the emulator cannot be reached.
    public func call(
        _ method: String,
        _ path: String,
        body: JSONValue? = nil,
        token: String? = nil,
        requestTimeout: Duration = .seconds(30)
    ) async throws(EmulatorClientError) -> (status: Int, json: JSONValue?) {
        let (status, data) = try await exchange(method, path, body: body, token: token, requestTimeout: requestTimeout)
        return (status, try? JSONValue.parse(Array(data)))
    }

    /// Sends one request; a status outside 2xx or an answer that is not JSON is an error.
    public func send(
        _ method: String,
        _ path: String,
        body: JSONValue? = nil,
        token: String? = nil,
        requestTimeout: Duration = .seconds(30)
    ) async throws(EmulatorClientError) -> JSONValue {
        let (status, data) = try await exchange(method, path, body: body, token: token, requestTimeout: requestTimeout)
        let json = try? JSONValue.parse(Array(data))
        guard (200..<300).contains(status), let json else {
            let code = json?["error"]?.stringValue ?? "http_\(status)"
            let message = json?["message"]?.stringValue ?? String(decoding: data.prefix(200), as: UTF8.self)
            throw EmulatorClientError(message: "\(method) \(path): \(status) \(code): \(message)")
        }
        return json
    }

    private func exchange(
        _ method: String,
        _ path: String,
        body: JSONValue?,
        token: String?,
        requestTimeout: Duration
    ) async throws(EmulatorClientError) -> (Int, Data) {
        guard URL(string: baseURL + path) != nil else {
            throw EmulatorClientError(message: "cannot form a URL from \(baseURL)\(path)")
        }
        // AsyncHTTPClient, as port-consumer's PortClient: one HTTP client in the product.
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = HTTPMethod(rawValue: method)
        if let body {
            request.body = .bytes(body.compactBytes)
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if clientID == EmulatorConfiguration.testerClientID {
            request.headers.add(name: FaultInjector.exemptionHeader, value: "true")
            // verify's runs are held from their creation until it has judged them.
            request.headers.add(name: RunStore.holdHeader, value: "true")
        }
        do {
            let response = try await Self.http.execute(
                request,
                timeout: .milliseconds(requestTimeout.wholeMilliseconds)
            )
            let body = try await response.body.collect(upTo: 64 << 20)
            return (Int(response.status.code), Data(body.readableBytesView))
        } catch {
            throw EmulatorClientError(
                message: "cannot reach port-emulator at \(baseURL) (\(error)); "
                    + "is `port-emulator serve` running? Pass --url or set PORT_API_URL"
            )
        }
    }

    /// One HTTP client for every `EmulatorClient`, living as long as the process. A refused
    /// connection fails the call at once: the pool would retry it until the call's deadline,
    /// and "is the emulator running?" should not take 30 seconds to answer.
    private static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(5))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// `text` escaped for one path segment or query value.
    public static func escape(_ text: String) -> String {
        text.percentEncoded()
    }
}

/// A request to the emulator that failed, in one line.
public struct EmulatorClientError: Error, Sendable, CustomStringConvertible {
    /// What went wrong.
    public let message: String
    /// The message.
    public var description: String { message }
}

extension EmulatorClient {
    /// Something that happened to a followed run.
    public enum RunEvent: Sendable, Equatable {
        /// The status (and its label) changed.
        case status(String, label: String?)
        /// A log line arrived.
        case log(String)
    }

    /// Follows a run until it finishes or `timeout` passes, reporting each new status and
    /// log as it arrives. Returns the final status, or `nil` on timeout.
    public func follow(
        runID: String,
        timeout: Duration,
        onEvent: (RunEvent) -> Void
    ) async throws(EmulatorClientError) -> String? {
        let deadline = ContinuousClock.now + timeout
        var version: Int?
        var seenLogs = 0
        var lastStatus: (String, String?)?
        while true {
            // The first call reads the run as it is; later ones wait for its next change.
            let remaining = version == nil ? .zero : deadline - ContinuousClock.now
            let (run, _) = try await wait(
                runID: runID,
                after: version,
                timeout: max(.zero, min(remaining, .seconds(20)))
            )
            version = run["version"]?.intValue.map(Int.init)
            let status = run["status"]?.stringValue ?? "?"
            let label = run["statusLabel"]?.stringValue
            let logs = run["logs"]?.arrayValue ?? []
            for log in logs.dropFirst(seenLogs) { onEvent(.log(log["message"]?.stringValue ?? log.compactText)) }
            seenLogs = max(seenLogs, logs.count)
            if lastStatus.map({ $0 != status || $1 != label }) ?? true {
                onEvent(.status(status, label: label))
                lastStatus = (status, label)
            }
            if let finished = RunStatus(rawValue: status), finished.isFinished { return status }
            if ContinuousClock.now >= deadline { return nil }
        }
    }
}
