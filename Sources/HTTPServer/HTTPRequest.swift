#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An HTTP method the router understands.
public enum HTTPMethod: String, Sendable, Hashable, CaseIterable {
    /// GET.
    case get = "GET"
    /// POST.
    case post = "POST"
    /// PUT.
    case put = "PUT"
    /// PATCH.
    case patch = "PATCH"
    /// DELETE.
    case delete = "DELETE"
    /// HEAD.
    case head = "HEAD"
    /// OPTIONS.
    case options = "OPTIONS"
}

/// A fully received HTTP request: method, path, parameters, headers and body.
public struct HTTPRequest: Sendable {
    /// The request method as sent (upper case), e.g. `PATCH`.
    public var method: String
    /// The decoded path without the query string, e.g. `/v1/actions/runs/r_1/logs`.
    public var path: String
    /// Values captured by the route pattern's `:name` segments.
    public var pathParameters: [String: String]
    /// Decoded query parameters in the order sent; a name may repeat.
    public var queryItems: [(name: String, value: String)]
    /// Request headers in the order sent.
    public var headers: [(name: String, value: String)]
    /// The request body (empty when none was sent).
    public var body: [UInt8]

    /// Creates a request; the server builds these, tests may too.
    public init(
        method: String,
        path: String,
        pathParameters: [String: String] = [:],
        queryItems: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.path = path
        self.pathParameters = pathParameters
        self.queryItems = queryItems
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, matched without regard to case.
    public func header(_ name: String) -> String? {
        headers.first { asciiCaseInsensitiveEqual($0.name, name) }?.value
    }

    /// The first value of a query parameter.
    public func query(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    /// Every value of a query parameter, in order.
    public func queryValues(_ name: String) -> [String] {
        queryItems.filter { $0.name == name }.map(\.value)
    }

    /// A value captured by the route pattern.
    public func parameter(_ name: String) -> String? {
        pathParameters[name]
    }

    /// The body decoded as UTF-8.
    public var bodyString: String { String(decoding: body, as: UTF8.self) }

    /// Decodes the JSON body, or throws a 400 `bad_request` `HTTPError` that says what is wrong.
    public func decodeJSON<Value: Decodable>(_ type: Value.Type = Value.self) throws -> Value {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch let error as DecodingError {
            throw HTTPError(status: 400, code: "bad_request", message: "Invalid JSON body: \(error.summary)")
        }
    }
}

extension DecodingError {
    /// A short, user-facing account of a decoding failure.
    var summary: String {
        func path(_ context: Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return keys.isEmpty ? "body" : "body\(keys)"
        }
        switch self {
        case .typeMismatch(let type, let context):
            return "\(path(context)) should be \(type)"
        case .valueNotFound(let type, let context):
            return "\(path(context)) should be \(type), not null"
        case .keyNotFound(let key, let context):
            return "\(path(context)).\(key.stringValue) is required"
        case .dataCorrupted(let context):
            return context.underlyingError.map { "\($0)" } ?? context.debugDescription
        @unknown default:
            return "\(self)"
        }
    }
}

/// Whether two header names are equal ignoring ASCII case (header names are ASCII tokens).
func asciiCaseInsensitiveEqual(_ left: String, _ right: String) -> Bool {
    guard left.utf8.count == right.utf8.count else { return false }
    return zip(left.utf8, right.utf8).allSatisfy { leftByte, rightByte in
        leftByte == rightByte
            || (leftByte | 0x20 == rightByte | 0x20 && (leftByte | 0x20) >= 0x61 && (leftByte | 0x20) <= 0x7A)
    }
}
