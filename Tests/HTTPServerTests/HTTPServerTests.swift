import Foundation
import HTTPServer
import Logging
import ServiceLifecycle
import Synchronization
import TestSupport
import Testing

let quietLogger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

/// An echo of what the server saw, for assertions.
struct Echo: Codable {
    var method: String
    var path: String
    var id: String?
    var query: [String: [String]]
    var traceHeader: String?
    var bodyCount: Int
}

/// Lets a test hold handlers until it says so.
actor Gate {
    private var open = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private(set) var arrivals = 0

    func wait() async {
        arrivals += 1
        if open { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func openGate() {
        open = true
        waiters.forEach { $0.resume() }
        waiters.removeAll()
    }
}

/// Releases everyone once `count` handlers have arrived.
actor Barrier {
    private let count: Int
    private var arrived = 0
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(count: Int) { self.count = count }

    func arriveAndWait() async -> Int {
        arrived += 1
        let position = arrived
        if arrived >= count {
            waiters.forEach { $0.resume() }
            waiters.removeAll()
        } else {
            await withCheckedContinuation { waiters.append($0) }
        }
        return position
    }
}

func makeRouter(gate: Gate = Gate(), barrier: Barrier = Barrier(count: 64)) -> HTTPRouter<BasicRequestContext> {
    var router = HTTPRouter<BasicRequestContext>()
    let echo: @Sendable (HTTPRequest) async throws -> HTTPResponse = { request in
        var query: [String: [String]] = [:]
        for item in request.queryItems { query[item.name, default: []].append(item.value) }
        return try .json(
            Echo(
                method: request.method,
                path: request.path,
                id: request.parameter("id"),
                query: query,
                traceHeader: request.header("x-client-trace"),
                bodyCount: request.body.count
            )
        )
    }
    router.add(.get, "/v1/actions/runs/:id", echo)
    router.addImmediate(.get, "/immediate/runs/:id") { request in
        try .json(["id": request.parameter("id") ?? "", "version": request.query("version") ?? ""])
    }
    router.addImmediate(.get, "/immediate/fail") { _ in throw CocoaError(.fileNoSuchFile) }
    router.addImmediate(.get, "/immediate/teapot") { _ in
        throw HTTPError(status: 418, code: "teapot", message: "short and stout", headers: [("Retry-After", "3")])
    }
    router.add(.post, "/v1/actions/runs/:id/logs", echo)
    router.add(.patch, "/v1/actions/runs/:id", echo)
    router.add(.get, "/v1/actions/runs", echo)
    router.add(.post, "/upload", echo)
    router.add(.get, "/fail") { _ in throw CocoaError(.fileNoSuchFile) }
    router.add(.get, "/teapot") { _ in throw HTTPError(status: 418, code: "teapot", message: "short and stout") }
    router.add(.get, "/slow") { _ in
        await gate.wait()
        return .text("finished")
    }
    router.add(.get, "/barrier/:n") { request in
        let position = await barrier.arriveAndWait()
        return try .json(["n": request.parameter("n") ?? "", "position": "\(position)"])
    }
    return router
}

func startServer(_ router: HTTPRouter<BasicRequestContext> = makeRouter()) throws -> HTTPServer {
    try HTTPServer.start(router: router, middlewares: [TraceHeader()], logger: quietLogger).running()
}

/// Sets `X-Trace-Id: trace-test` on every answer, the 404, 405, 413 and 500 included.
struct TraceHeader: HTTPMiddleware {
    func didHandle(
        _ request: HTTPRequest,
        context: inout BasicRequestContext,
        response: inout HTTPResponse,
        error: (any Error)?
    ) {
        response.setHeader("X-Trace-Id", "trace-test")
    }
}

extension HTTPServer {
    /// Runs the handlers in a task of the test's; `stop()` ends it.
    func running() -> HTTPServer {
        Task { try await run() }
        return self
    }
}

@Suite("HTTP server over libmicrohttpd", .timeLimit(.minutes(10)))
struct HTTPServerTests {
    @Test("routes by method and pattern, with path and query parameters and headers")
    func routing() async throws {
        let server = try startServer()
        let response = try await RawHTTPClient.send(
            port: server.port,
            method: "GET",
            path: "/v1/actions/runs/r_abc123?version=v2&tag=a&tag=b%20c&flag",
            headers: [("X-Client-Trace", "t-1")]
        )
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.headers["x-trace-id"] == "trace-test")
        let echo = try JSONDecoder().decode(Echo.self, from: Data(response.body))
        #expect(echo.method == "GET")
        #expect(echo.path == "/v1/actions/runs/r_abc123")
        #expect(echo.id == "r_abc123")
        #expect(echo.query == ["version": ["v2"], "tag": ["a", "b c"], "flag": [""]])
        #expect(echo.traceHeader == "t-1")

        let logs = try await RawHTTPClient.send(
            port: server.port,
            method: "POST",
            path: "/v1/actions/runs/r_9/logs/",
            body: Array(#"{"message":"hi"}"#.utf8)
        )
        let logsEcho = try JSONDecoder().decode(Echo.self, from: Data(logs.body))
        #expect(logs.status == 200)
        #expect(logsEcho.id == "r_9")
        #expect(logsEcho.bodyCount == 16)
        await server.stop()
    }

    @Test(
        "an escaped slash is data inside its path segment, not a separator; other escapes decode as before",
        arguments: [
            ("/v1/actions/runs/a%2Fb", "a/b"), ("/v1/actions/runs/%2F", "/"), ("/v1/actions/runs/%2f", "/"),
            ("/v1/actions/runs/100%25", "100%"), ("/v1/actions/runs/%252F", "%2F"), ("/v1/actions/runs/r%5F1", "r_1"),
            ("/v1/actions/runs/caf%C3%A9", "café"),
        ]
    )
    func escapedSlash(path: String, id: String) async throws {
        let server = try startServer()
        let response = try await RawHTTPClient.send(
            port: server.port,
            method: "GET",
            path: path + "?q=x%2Fy%25&s=%252F"
        )
        #expect(response.status == 200)
        let echo = try JSONDecoder().decode(Echo.self, from: Data(response.body))
        // The run route (with an id), not the list of runs that "/v1/actions/runs/" would be.
        #expect(echo.id == id)
        #expect(echo.query == ["q": ["x/y%"], "s": ["%2F"]])
        await server.stop()
    }

    @Test("an unknown path is a 404 in Port's error envelope")
    func unknownRoute() async throws {
        let server = try startServer()
        let response = try await RawHTTPClient.send(port: server.port, method: "GET", path: "/v1/nothing/here")
        #expect(response.status == 404)
        let body = try response.json()
        #expect(body["ok"] as? Bool == false)
        #expect(body["error"] as? String == "not_found")
        #expect(response.headers["x-trace-id"] == "trace-test")
        await server.stop()
    }

    @Test("a known path with the wrong method is a 405 that lists the allowed methods")
    func wrongMethod() async throws {
        let server = try startServer()
        let response = try await RawHTTPClient.send(port: server.port, method: "DELETE", path: "/v1/actions/runs/r_1")
        #expect(response.status == 405)
        #expect(response.headers["allow"] == "GET, PATCH")
        #expect(try response.json()["error"] as? String == "method_not_allowed")
        await server.stop()
    }

    @Test("a body of exactly 1 MiB is accepted and one byte more is a 413", arguments: [false, true])
    func bodyLimit(chunked: Bool) async throws {
        let server = try startServer()
        let limit = 1 << 20
        let accepted = try await RawHTTPClient.send(
            port: server.port,
            method: "POST",
            path: "/upload",
            body: [UInt8](repeating: 0x61, count: limit),
            chunked: chunked
        )
        #expect(accepted.status == 200)
        #expect(try JSONDecoder().decode(Echo.self, from: Data(accepted.body)).bodyCount == limit)

        let refused = try await RawHTTPClient.send(
            port: server.port,
            method: "POST",
            path: "/upload",
            body: [UInt8](repeating: 0x61, count: limit + 1),
            chunked: chunked
        )
        #expect(refused.status == 413)
        #expect(
            refused.bodyString
                == #"{"ok":false,"error":"bad_request","message":"Request body is too large (limit is 1MiB)"}"#
        )
        #expect(refused.headers["x-trace-id"] == "trace-test")
        await server.stop()
    }

    @Test("a body announced far over the limit is refused before it is sent")
    func hugeAnnouncedBody() async throws {
        let server = try startServer()
        let response = try await RawHTTPClient.send(
            port: server.port,
            method: "POST",
            path: "/upload",
            headers: [("Content-Length", "1073741824")]
        )
        #expect(response.status == 413)
        await server.stop()
    }

    @Test("a handler that throws gets a 500 JSON error; an HTTPError keeps its status")
    func throwingHandler() async throws {
        let server = try startServer()
        let failed = try await RawHTTPClient.send(port: server.port, method: "GET", path: "/fail")
        #expect(failed.status == 500)
        #expect(try failed.json()["error"] as? String == "internal_error")
        let teapot = try await RawHTTPClient.send(port: server.port, method: "GET", path: "/teapot")
        #expect(teapot.status == 418)
        #expect(try teapot.json()["message"] as? String == "short and stout")
        // The server is still serving after both.
        let after = try await RawHTTPClient.send(port: server.port, method: "GET", path: "/v1/actions/runs")
        #expect(after.status == 200)
        await server.stop()
    }

    @Test("immediate routes answer on the I/O thread with the same parameters, errors and response hook")
    func immediateRoutes() async throws {
        let server = try startServer()
        let response = try await RawHTTPClient.send(
            port: server.port,
            method: "GET",
            path: "/immediate/runs/r_7?version=v1"
        )
        #expect(response.status == 200)
        #expect(response.bodyString == #"{"id":"r_7","version":"v1"}"#)
        #expect(response.headers["x-trace-id"] == "trace-test")
        let failed = try await RawHTTPClient.send(port: server.port, method: "GET", path: "/immediate/fail")
        #expect(failed.status == 500)
        #expect(try failed.json()["error"] as? String == "internal_error")
        let teapot = try await RawHTTPClient.send(port: server.port, method: "GET", path: "/immediate/teapot")
        #expect(teapot.status == 418)
        #expect(teapot.headers["retry-after"] == "3")
        #expect(teapot.headers["x-trace-id"] == "trace-test")
        await server.stop()
    }

    @Test("port 0 binds a free port that is reported back; a taken port is a clear error")
    func portZero() async throws {
        let first = try startServer()
        let second = try startServer()
        #expect(first.port > 0)
        #expect(second.port > 0)
        #expect(first.port != second.port)
        #expect(first.baseURL == "http://127.0.0.1:\(first.port)")
        var configuration = HTTPServer.Configuration()
        configuration.port = first.port
        let error = #expect(throws: HTTPServerError.self) {
            try HTTPServer.start(configuration: configuration, router: makeRouter())
        }
        #expect(error?.message.contains("could not listen on 127.0.0.1:\(first.port)") == true)
        configuration.host = "not-an-address"
        #expect(throws: HTTPServerError.self) {
            try HTTPServer.start(configuration: configuration, router: makeRouter())
        }
        await first.stop()
        await second.stop()
    }

    @Test("64 clients at once are all in their handlers together and each gets its own answer")
    func sixtyFourConcurrentClients() async throws {
        let barrier = Barrier(count: 64)
        let server = try startServer(makeRouter(barrier: barrier))
        let responses = try await withThrowingTaskGroup(of: (Int, RawResponse).self) { group in
            for index in 0..<64 {
                group.addTask {
                    (index, try await RawHTTPClient.send(port: server.port, method: "GET", path: "/barrier/\(index)"))
                }
            }
            return try await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
        #expect(responses.count == 64)
        var positions: Set<String> = []
        for (index, response) in responses {
            #expect(response.status == 200)
            let body = try response.json()
            #expect(body["n"] as? String == "\(index)")
            positions.insert(body["position"] as? String ?? "")
        }
        #expect(positions == Set((1...64).map(String.init)))
        await server.stop()
    }

    @Test("stop refuses new connections at once and lets a request in progress finish")
    func gracefulStop() async throws {
        let gate = Gate()
        let server = try startServer(makeRouter(gate: gate))
        let port = server.port
        let slow = Task { try await RawHTTPClient.send(port: port, method: "GET", path: "/slow") }
        try await waitUntil("the slow request to reach its handler", within: .seconds(30)) { await gate.arrivals > 0 }

        let stopping = Task { await server.stop(gracePeriod: .seconds(10)) }
        try await waitUntil("the stopping server to refuse connections", within: .seconds(30)) {
            !RawHTTPClient.canConnect(port: port)
        }
        #expect(server.activeRequests == 1)

        await gate.openGate()
        let response = try await slow.value
        #expect(response.status == 200)
        #expect(response.bodyString == "finished")
        await stopping.value
        #expect(server.activeRequests == 0)
    }

    @Test("as a service: a graceful shutdown of its group lets the request in progress finish, then run() returns")
    func serviceGroupShutdown() async throws {
        let gate = Gate()
        var configuration = HTTPServer.Configuration()
        configuration.shutdownGracePeriod = .seconds(30)
        let server = try HTTPServer.start(
            configuration: configuration,
            router: makeRouter(gate: gate),
            logger: quietLogger
        )
        let group = ServiceGroup(services: [server], logger: quietLogger)
        let running = Task { try await group.run() }
        let port = server.port
        let slow = Task { try await RawHTTPClient.send(port: port, method: "GET", path: "/slow") }
        try await waitUntil("the handler to start") { await gate.arrivals == 1 }
        await group.triggerGracefulShutdown()
        try await waitUntil("new connections to be refused") { !RawHTTPClient.canConnect(port: port) }
        #expect(server.activeRequests == 1)
        await gate.openGate()
        #expect(try await slow.value.bodyString == "finished")
        try await running.value
        #expect(server.activeRequests == 0)
    }

    @Test("stop cancels handlers that outlive the grace period, answering 503")
    func stopCancelsLateHandlers() async throws {
        var router = HTTPRouter<BasicRequestContext>()
        router.add(.get, "/forever") { _ in
            try await Task.sleep(for: .seconds(3600))
            return .text("never")
        }
        let server = try HTTPServer.start(router: router).running()
        let port = server.port
        let request = Task { try await RawHTTPClient.send(port: port, method: "GET", path: "/forever") }
        try await waitUntil("a request in progress", within: .seconds(30)) { server.activeRequests > 0 }
        await server.stop(gracePeriod: .milliseconds(100))
        let response = try await request.value
        #expect(response.status == 503)
    }
}

/// How many answers the clients of one round got. An atomic, not a `Mutex`: ThreadSanitizer
/// does not see the futex under Synchronization's `Mutex` on Linux, and reports its contended
/// increments as a race.
final class AnswerCount: Sendable {
    private let count = Atomic(0)

    func add() { count.wrappingAdd(1, ordering: .relaxed) }

    var value: Int { count.load(ordering: .relaxed) }
}

@Suite("HTTP server stopping", .timeLimit(.minutes(10)))
struct HTTPServerStopTests {
    /// Quiescing a thread pool over epoll raced each worker removing the listen socket from
    /// its own epoll set, and libmicrohttpd aborted the process on the loser's ENOENT.
    @Test("stopping a pooled server while clients keep connecting never aborts the process")
    func stopsUnderLoad() async throws {
        for _ in 0..<100 {
            let server = try startServer()
            let port = server.port
            let answered = AnswerCount()
            await withTaskGroup(of: Void.self) { clients in
                for _ in 0..<4 {
                    clients.addTask {
                        // Until the server refuses: every answer before that is a 404.
                        while let response = try? await RawHTTPClient.send(port: port, method: "GET", path: "/unknown")
                        {
                            #expect(response.status == 404)
                            answered.add()
                        }
                    }
                }
                try? await waitUntil("a first answer", within: .seconds(30)) { answered.value > 0 }
                await server.stop(gracePeriod: .zero)
            }
        }
    }
}

@Suite("HTTP router", .timeLimit(.minutes(10)))
struct HTTPRouterTests {
    @Test("literal segments win over captures, and a later route replaces an identical one")
    func precedence() {
        var router = HTTPRouter<BasicRequestContext>()
        router.add(.get, "/v1/blueprints/:id", { _ in .text("capture") })
        router.add(.get, "/v1/blueprints/special", { _ in .text("literal") })
        guard
            case .matched(let route, let parameters) = router.resolve(
                method: "GET",
                path: "/v1/blueprints/special"
            )
        else {
            Issue.record("no match")
            return
        }
        #expect(route.pattern == "/v1/blueprints/special")
        #expect(parameters.isEmpty)
        guard case .matched(_, let captured) = router.resolve(method: "GET", path: "/v1/blueprints/service") else {
            Issue.record("no match")
            return
        }
        #expect(captured == ["id": "service"])
        guard case .notFound = router.resolve(method: "GET", path: "/v1/blueprints/a/b") else {
            Issue.record("expected not found")
            return
        }
    }
}
