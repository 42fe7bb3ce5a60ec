/// Handles one request in a Swift task; the connection waits, holding no server thread.
/// The context carries what the middlewares learned about the request (who sent it, ...).
public typealias HTTPHandler<Context> = @Sendable (HTTPRequest, inout Context) async throws -> HTTPResponse

/// Handles one request at once on the server's I/O thread. It must not block or wait:
/// use it for work that only computes or takes a short lock.
public typealias HTTPImmediateHandler<Context> = @Sendable (HTTPRequest, inout Context) throws -> HTTPResponse

/// A route's handler: answered in a task, or immediately on the I/O thread.
public enum HTTPRouteHandler<Context: HTTPRequestContext>: Sendable {
    /// Runs in a Swift task; may await (long polls, I/O).
    case async(HTTPHandler<Context>)
    /// Runs on libmicrohttpd's thread with no hand-off: fastest, but must never block.
    case immediate(HTTPImmediateHandler<Context>)
}

/// Routes requests by method and path pattern, such as `/v1/actions/runs/:id/logs`.
///
/// A segment starting with `:` captures one path segment under that name. A trailing slash
/// is ignored. Literal segments win over captures when two patterns could match. A route
/// may carry middlewares of its own, which run inside the server's (see ``HTTPMiddleware``).
public struct HTTPRouter<Context: HTTPRequestContext>: Sendable {
    /// What the router found for a request.
    public enum Resolution: Sendable {
        /// A route matched: its handler, its own middlewares and captured parameters.
        case matched(Route, parameters: [String: String])
        /// The path exists but not for this method; `allowed` lists the methods it has.
        case methodNotAllowed(allowed: [String])
        /// No route has this path.
        case notFound
    }

    /// One registered route.
    public struct Route: Sendable {
        /// The method, such as `GET`.
        public let method: String
        /// The pattern it was registered with, such as `/v1/actions/runs/:id`.
        public let pattern: String
        /// The handler.
        public let handler: HTTPRouteHandler<Context>
        /// The route's own middlewares, run inside the server's, in order.
        public let middlewares: [any HTTPMiddleware<Context>]
    }

    /// The patterns, matched without generics (this runs for every request); `routes` holds
    /// what each one leads to, at the same index.
    private var table = RouteTable()
    private var routes: [Route] = []

    /// Creates an empty router.
    public init() {}

    /// Every route registered so far, as `(method, pattern)` in registration order.
    public var routeList: [(method: String, pattern: String)] { routes.map { ($0.method, $0.pattern) } }

    /// Adds a route answered in a Swift task; a later route with the same method and pattern
    /// replaces the earlier one.
    public mutating func add(
        _ method: HTTPMethod,
        _ pattern: String,
        middlewares: [any HTTPMiddleware<Context>] = [],
        _ handler: @escaping HTTPHandler<Context>
    ) {
        add(method, pattern, handler: .async(handler), middlewares: middlewares)
    }

    /// Adds a route answered in a Swift task by a handler that needs no context.
    public mutating func add(
        _ method: HTTPMethod,
        _ pattern: String,
        middlewares: [any HTTPMiddleware<Context>] = [],
        _ handler: @escaping @Sendable (HTTPRequest) async throws -> HTTPResponse
    ) {
        add(method, pattern, handler: .async { request, _ in try await handler(request) }, middlewares: middlewares)
    }

    /// Adds a route answered at once on the I/O thread; `handler` must not block.
    public mutating func addImmediate(
        _ method: HTTPMethod,
        _ pattern: String,
        middlewares: [any HTTPMiddleware<Context>] = [],
        _ handler: @escaping HTTPImmediateHandler<Context>
    ) {
        add(method, pattern, handler: .immediate(handler), middlewares: middlewares)
    }

    /// Adds a route answered at once on the I/O thread by a handler that needs no context.
    public mutating func addImmediate(
        _ method: HTTPMethod,
        _ pattern: String,
        middlewares: [any HTTPMiddleware<Context>] = [],
        _ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse
    ) {
        add(method, pattern, handler: .immediate { request, _ in try handler(request) }, middlewares: middlewares)
    }

    private mutating func add(
        _ method: HTTPMethod,
        _ pattern: String,
        handler: HTTPRouteHandler<Context>,
        middlewares: [any HTTPMiddleware<Context>]
    ) {
        let route = Route(method: method.rawValue, pattern: pattern, handler: handler, middlewares: middlewares)
        if let replaced = table.add(method: method.rawValue, pattern: pattern) {
            routes[replaced] = route
        } else {
            routes.append(route)
        }
    }

    /// Finds the route for a method and path.
    public func resolve(method: String, path: String) -> Resolution {
        switch table.resolve(method: method, path: path) {
        case .matched(let index, let parameters): .matched(routes[index], parameters: parameters)
        case .methodNotAllowed(let allowed): .methodNotAllowed(allowed: allowed)
        case .notFound: .notFound
        }
    }
}

/// Method and pattern of every route, in registration order, and the matching of a path
/// against them: literal segments win over captures.
struct RouteTable: Sendable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case capture(String)
    }

    enum Match {
        case matched(Int, parameters: [String: String])
        case methodNotAllowed(allowed: [String])
        case notFound
    }

    private var methods: [String] = []
    private var segments: [[Segment]] = []
    /// The literal segments of each pattern: the more, the more specific.
    private var literals: [Int] = []
    /// The patterns by their number of segments, in registration order: a path is matched
    /// against those of its length only.
    private var bySegmentCount: [Int: [Int]] = [:]

    /// Adds a pattern; returns the index it replaced when the same method and segments were
    /// there already, nil when it is appended.
    mutating func add(method: String, pattern: String) -> Int? {
        let parsed = Self.split(pattern).map {
            $0.hasPrefix(":") ? Segment.capture(String($0.dropFirst())) : .literal($0)
        }
        if let index = methods.indices.first(where: { methods[$0] == method && segments[$0] == parsed }) {
            return index
        }
        methods.append(method)
        segments.append(parsed)
        literals.append(parsed.filter { if case .literal = $0 { true } else { false } }.count)
        bySegmentCount[parsed.count, default: []].append(methods.count - 1)
        return nil
    }

    func resolve(method: String, path: String) -> Match {
        let parts = Self.split(path)
        var best: (index: Int, parameters: [String: String])?
        var allowed: Set<String> = []
        for index in bySegmentCount[parts.count] ?? [] {
            guard let parameters = Self.match(segments[index], parts) else { continue }
            guard methods[index] == method else {
                allowed.insert(methods[index])
                continue
            }
            if best.map({ literals[index] > literals[$0.index] }) ?? true {
                best = (index, parameters)
            }
        }
        if let best { return .matched(best.index, parameters: best.parameters) }
        return allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed.sorted())
    }

    private static func split(_ path: String) -> [String] {
        path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    private static func match(_ segments: [Segment], _ parts: [String]) -> [String: String]? {
        guard segments.count == parts.count else { return nil }
        // The literals first: most patterns fail there, before any capture is decoded.
        for (segment, part) in zip(segments, parts) {
            if case .literal(let literal) = segment, literal != part { return nil }
        }
        var parameters: [String: String] = [:]
        for (segment, part) in zip(segments, parts) {
            if case .capture(let name) = segment { parameters[name] = decodingKeptEscapes(part) }
        }
        return parameters
    }
}

/// Decodes the escapes libmicrohttpd leaves in paths and query arguments (`%2F`, `%25`; see
/// `cmhd_unescape_keeping_separators`), once a path has been split into segments.
func decodingKeptEscapes(_ text: String) -> String {
    guard text.contains("%") else { return text }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var utf8 = Array(text.utf8)[...]
    while let byte = utf8.first {
        if byte == UInt8(ascii: "%"), utf8.count >= 3 {
            let escape = String(decoding: utf8.dropFirst().prefix(2), as: UTF8.self).uppercased()
            if escape == "2F" || escape == "25" {
                bytes.append(escape == "2F" ? UInt8(ascii: "/") : UInt8(ascii: "%"))
                utf8 = utf8.dropFirst(3)
                continue
            }
        }
        bytes.append(byte)
        utf8 = utf8.dropFirst()
    }
    return String(decoding: bytes, as: UTF8.self)
}
