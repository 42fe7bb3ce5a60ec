import AsyncHTTPClient
import NIOCore
import NIOHTTP1
package import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// One request `import` makes of Port's API: a method, a path under the API's base URL
/// (`/v1/...`, query included), a JSON body and a bearer token.
package struct PortAPIRequest: Sendable, Equatable {
    /// `GET` or `POST`.
    package var method: String
    /// The path and query, e.g. `/v1/actions?version=v2`.
    package var path: String
    /// The JSON body, if any.
    package var body: JSONValue?
    /// The access token, if any.
    package var token: String?

    /// A request.
    package init(_ method: String, _ path: String, body: JSONValue? = nil, token: String? = nil) {
        self.method = method
        self.path = path
        self.body = body
        self.token = token
    }
}

/// Port's answer to one request: its status and its body.
package struct PortAPIResponse: Sendable {
    /// The HTTP status.
    package var status: Int
    /// The body's bytes.
    package var body: [UInt8]

    /// An answer.
    package init(status: Int, body: [UInt8]) {
        self.status = status
        self.body = body
    }

    /// An answer with a JSON body.
    package init(status: Int, json: JSONValue) {
        self.init(status: status, body: json.compactBytes)
    }

    /// The body as JSON, or nil when it is not JSON.
    package var json: JSONValue? { try? JSONValue.parse(body) }
}

/// How `import` reaches Port's API: over HTTP (``HTTPPortTransport``), or a stand-in in tests.
package protocol PortAPITransport: Sendable {
    /// Sends one request and returns the answer, whatever its status; throws only when
    /// Port cannot be reached.
    func send(_ request: PortAPIRequest) async throws(ImportError) -> PortAPIResponse
}

/// Port's API over HTTP(S) with AsyncHTTPClient, the product's one HTTP client library (as
/// port-consumer's `PortClient` and verify's `EmulatorClient`).
///
/// Not `EmulatorClient`: that is verify's client of an emulator (its defaults are the
/// emulator's credentials, its tester marks its calls exempt from fault injection, and its
/// errors tell the user to start `port-emulator serve`); `import` talks to Port itself.
package struct HTTPPortTransport: PortAPITransport {
    /// The API's base URL, without `/v1`.
    package let baseURL: String
    /// How long one request may take.
    package var requestTimeout: Duration = .seconds(60)

    /// A transport to the API at `baseURL` (see ``PortImport/normalizedBaseURL(_:)``).
    package init(baseURL: String) {
        self.baseURL = baseURL
    }

    /// Sends one request; an unreachable API is one line naming it.
    package func send(_ request: PortAPIRequest) async throws(ImportError) -> PortAPIResponse {
        var outgoing = HTTPClientRequest(url: baseURL + request.path)
        outgoing.method = HTTPMethod(rawValue: request.method)
        outgoing.headers.add(name: "Accept", value: "application/json")
        outgoing.headers.add(name: "User-Agent", value: "port-emulator-import/\(HarnessVersion.current)")
        if let body = request.body {
            outgoing.body = .bytes(body.compactBytes)
            outgoing.headers.add(name: "Content-Type", value: "application/json")
        }
        if let token = request.token { outgoing.headers.add(name: "Authorization", value: "Bearer \(token)") }
        do {
            let response = try await Self.http.execute(
                outgoing,
                timeout: .milliseconds(Int64(requestTimeout.components.seconds) * 1000)
            )
            let body = try await response.body.collect(upTo: 256 << 20)
            return PortAPIResponse(status: Int(response.status.code), body: Array(body.readableBytesView))
        } catch {
            throw ImportError("cannot reach \(baseURL) (\(request.method) \(request.path): \(error))")
        }
    }

    /// One HTTP client for the process. A refused connection fails at once rather than
    /// being retried until the request's deadline.
    private static let http: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
}

/// Why `import` stopped, in one line (printed after `port-emulator import: `).
package struct ImportError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What went wrong.
    package let message: String

    /// An error saying `message`.
    package init(_ message: String) {
        self.message = message
    }

    /// The message.
    package var description: String { message }
}
