import Foundation
import HTTPServer
import TestSupport
import Testing

/// A context that keeps the names of the steps a request went through.
struct TrailContext: HTTPRequestContext {
    var trail: [String] = []
}

/// Writes its name into the context before the handler and into `X-After` after it; refuses
/// with 403 when the request carries `X-Refuse: <name>`, throws when `X-Throw: <name>`.
struct Step: HTTPMiddleware {
    let name: String

    func willHandle(_ request: HTTPRequest, context: inout TrailContext) throws -> HTTPResponse? {
        context.trail.append(name)
        if request.header("X-Refuse") == name { return .text(status: 403, "refused by \(name)") }
        if request.header("X-Throw") == name {
            throw HTTPError(status: 401, code: "unauthorized", message: "\(name) wants a token")
        }
        return nil
    }

    func didHandle(
        _ request: HTTPRequest,
        context: inout TrailContext,
        response: inout HTTPResponse,
        error: (any Error)?
    ) {
        let mark = error.map { "\(name)(\(type(of: $0)))" } ?? name
        response.setHeader("X-After", [response.header("X-After"), mark].compactMap { $0 }.joined(separator: ","))
    }
}

struct Failure: Error {}

@Suite("HTTP middlewares: order, early answers, errors", .timeLimit(.minutes(10)))
struct HTTPMiddlewareTests {
    /// Serves `/immediate` and `/async` (both answering with the trail), `/fail` (throws a
    /// plain error), each behind the route's own step `route`, inside the server's `a` and `b`.
    func withServer(_ body: (Int) async throws -> Void) async throws {
        var router = HTTPRouter<TrailContext>()
        let route = [Step(name: "route")]
        router.addImmediate(.get, "/immediate", middlewares: route) { _, context in
            .text((context.trail + ["handler"]).joined(separator: ","))
        }
        router.add(.post, "/async", middlewares: route) { _, context in
            await Task.yield()
            return .text((context.trail + ["handler"]).joined(separator: ","))
        }
        router.addImmediate(.get, "/fail", middlewares: route) { _, _ in throw Failure() }
        var configuration = HTTPServer.Configuration()
        configuration.maxBodySize = 16
        let server = try HTTPServer.start(
            configuration: configuration,
            router: router,
            middlewares: [Step(name: "a"), Step(name: "b")],
            logger: quietLogger
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            defer { group.cancelAll() }
            try await body(server.port)
            await server.stop()
        }
    }

    @Test(
        "the server's middlewares run around the route's, before in order and after in reverse",
        arguments: [("GET", "/immediate"), ("POST", "/async")]
    )
    func order(method: String, path: String) async throws {
        try await withServer { port in
            let response = try await RawHTTPClient.send(port: port, method: method, path: path)
            #expect(response.status == 200)
            #expect(response.bodyString == "a,b,route,handler")
            #expect(response.headers["x-after"] == "route,b,a")
        }
    }

    @Test("a middleware that answers skips the later steps and the handler; those entered still see the answer")
    func earlyAnswer() async throws {
        try await withServer { port in
            let refused = try await RawHTTPClient.send(
                port: port,
                method: "GET",
                path: "/immediate",
                headers: [("X-Refuse", "b")]
            )
            #expect(refused.status == 403)
            #expect(refused.bodyString == "refused by b")
            #expect(refused.headers["x-after"] == "b,a")
        }
    }

    @Test("an HTTPResponseError thrown by a middleware is the answer, and the steps entered see the error")
    func thrownResponseError() async throws {
        try await withServer { port in
            let response = try await RawHTTPClient.send(
                port: port,
                method: "POST",
                path: "/async",
                headers: [("X-Throw", "route")]
            )
            #expect(response.status == 401)
            #expect(try response.json()["error"] as? String == "unauthorized")
            #expect(response.headers["x-after"] == "route(HTTPError),b(HTTPError),a(HTTPError)")
        }
    }

    @Test("a handler's plain error is a 500 that every step sees")
    func handlerError() async throws {
        try await withServer { port in
            let response = try await RawHTTPClient.send(port: port, method: "GET", path: "/fail")
            #expect(response.status == 500)
            #expect(response.headers["x-after"] == "route(Failure),b(Failure),a(Failure)")
        }
    }

    @Test("404, 405 and 413 pass through the server's middlewares only")
    func refusalsBeforeRouting() async throws {
        try await withServer { port in
            let missing = try await RawHTTPClient.send(port: port, method: "GET", path: "/nowhere")
            #expect(missing.status == 404)
            #expect(missing.headers["x-after"] == "b,a")
            let wrongMethod = try await RawHTTPClient.send(port: port, method: "DELETE", path: "/immediate")
            #expect(wrongMethod.status == 405)
            #expect(wrongMethod.headers["x-after"] == "b,a")
            let tooLarge = try await RawHTTPClient.send(
                port: port,
                method: "POST",
                path: "/async",
                body: Array(repeating: UInt8(ascii: "x"), count: 64)
            )
            #expect(tooLarge.status == 413)
            #expect(tooLarge.headers["x-after"] == "b,a")
        }
    }
}
