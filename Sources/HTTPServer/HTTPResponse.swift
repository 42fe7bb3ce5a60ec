#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An HTTP response: status, headers and body.
public struct HTTPResponse: Sendable {
    /// The status code.
    public var status: Int
    /// Response headers; the server adds `Content-Length` and `Date` itself.
    public var headers: [(name: String, value: String)]
    /// The body bytes.
    public var body: [UInt8]
    /// How long the server holds the response before sending it (holding no server thread).
    public var delay: Duration = .zero
    /// Whether the server closes the connection instead of answering (an injected network
    /// failure: the client sees the connection drop).
    public var dropsConnection = false

    /// Creates a response.
    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, matched without regard to case.
    public func header(_ name: String) -> String? {
        headers.first { asciiCaseInsensitiveEqual($0.name, name) }?.value
    }

    /// Sets a header, replacing earlier values of the same name.
    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { asciiCaseInsensitiveEqual($0.name, name) }
        headers.append((name, value))
    }

    /// A JSON response from already-encoded bytes.
    public static func json(status: Int = 200, bytes: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "application/json")], body: bytes)
    }

    /// A JSON response from an `Encodable` value.
    public static func json(status: Int = 200, _ value: some Encodable) throws -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return json(status: status, bytes: Array(try encoder.encode(value)))
    }

    /// Port's error envelope, in Port's key order: `{"ok":false,"error":code,"message":message}`.
    public static func error(status: Int, code: String, message: String) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let quoted = { (text: String) in
            String(decoding: (try? encoder.encode(text)) ?? Data("\"\"".utf8), as: UTF8.self)
        }
        let body = #"{"ok":false,"error":"# + quoted(code) + #","message":"# + quoted(message) + "}"
        return json(status: status, bytes: Array(body.utf8))
    }

    /// A plain-text response.
    public static func text(status: Int = 200, _ text: String) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", "text/plain; charset=utf-8")], body: Array(text.utf8))
    }
}

/// An error a handler throws to answer with a specific status and Port error envelope.
public struct HTTPError: HTTPResponseError, Sendable, CustomStringConvertible {
    /// The status code to answer with.
    public var status: Int
    /// The machine-readable error code, e.g. `not_found`.
    public var code: String
    /// The human-readable message.
    public var message: String
    /// Extra headers, e.g. `Retry-After`.
    public var headers: [(name: String, value: String)]

    /// Creates an error response description.
    public init(status: Int, code: String, message: String, headers: [(name: String, value: String)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    /// The response this error stands for.
    public var response: HTTPResponse {
        var response = HTTPResponse.error(status: status, code: code, message: message)
        for header in headers { response.setHeader(header.name, header.value) }
        return response
    }

    /// `status code: message`.
    public var description: String { "\(status) \(code): \(message)" }
}
