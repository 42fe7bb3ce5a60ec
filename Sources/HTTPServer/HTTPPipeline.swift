import Logging

/// What the server core does with a complete request.
enum HTTPDispatch: Sendable {
    /// Queue this response now.
    case respond(HTTPResponse)
    /// Suspend the connection and answer from a task.
    case run(@Sendable () async -> HTTPResponse)
}

/// The router and the middlewares, with their context type hidden from the server core
/// (libmicrohttpd's C callbacks cannot be generic).
protocol HTTPRequestPipeline: Sendable {
    /// Routes a request: immediate handlers, 404 and 405 are answered here and now.
    func dispatch(_ request: HTTPRequest) -> HTTPDispatch

    /// A refusal made before routing (413): the server's middlewares still see it.
    func refuse(_ request: HTTPRequest, with response: HTTPResponse) -> HTTPResponse
}

/// Runs a request through the server's middlewares, the route's, and the route's handler.
struct HTTPPipeline<Context: HTTPRequestContext>: HTTPRequestPipeline {
    let router: HTTPRouter<Context>
    let middlewares: [any HTTPMiddleware<Context>]
    let logger: Logger

    func dispatch(_ request: HTTPRequest) -> HTTPDispatch {
        switch router.resolve(method: request.method, path: request.path) {
        case .matched(let route, let parameters):
            var request = request
            request.pathParameters = parameters
            let chain = Chain(server: middlewares, route: route.middlewares)
            switch route.handler {
            case .immediate(let handler):
                return .respond(answer(request, chain) { request, context in try handler(request, &context) })
            case .async(let handler):
                return .run { [self, request] in await answer(request, chain, handler) }
            }
        case .methodNotAllowed(let allowed):
            var response = HTTPResponse.error(
                status: 405,
                code: "method_not_allowed",
                message:
                    "\(request.method) is not allowed on \(request.path); allowed: \(allowed.joined(separator: ", "))"
            )
            response.setHeader("Allow", allowed.joined(separator: ", "))
            return .respond(refuse(request, with: response))
        case .notFound:
            let response = HTTPResponse.error(
                status: 404,
                code: "not_found",
                message: "No route for \(request.method) \(request.path)"
            )
            return .respond(refuse(request, with: response))
        }
    }

    func refuse(_ request: HTTPRequest, with response: HTTPResponse) -> HTTPResponse {
        answer(request, Chain(server: middlewares, route: [])) { _, _ in response }
    }

    /// The synchronous pipeline, on the calling thread.
    private func answer(
        _ request: HTTPRequest,
        _ chain: Chain,
        _ handler: (HTTPRequest, inout Context) throws -> HTTPResponse
    ) -> HTTPResponse {
        var context = Context()
        var (entered, outcome) = chain.enter(request, &context, answering: response(for:_:))
        if outcome == nil {
            do {
                outcome = (try handler(request, &context), nil)
            } catch {
                outcome = (response(for: error, request), error)
            }
        }
        return chain.leave(entered, request, &context, outcome!)
    }

    /// The pipeline with an async handler, in the caller's task.
    private func answer(
        _ request: HTTPRequest,
        _ chain: Chain,
        _ handler: HTTPHandler<Context>
    ) async -> HTTPResponse {
        var context = Context()
        var (entered, outcome) = chain.enter(request, &context, answering: response(for:_:))
        if outcome == nil {
            do {
                outcome = (try await handler(request, &context), nil)
            } catch {
                outcome = (response(for: error, request), error)
            }
        }
        return chain.leave(entered, request, &context, outcome!)
    }

    /// The answer to an error: its own for an ``HTTPResponseError``, 503 when cancelled by a
    /// stop, 500 otherwise.
    private func response(for error: any Error, _ request: HTTPRequest) -> HTTPResponse {
        switch error {
        case let error as any HTTPResponseError:
            return error.response
        case is CancellationError:
            return .error(status: 503, code: "service_unavailable", message: "The server is shutting down")
        default:
            logger.error(
                "handler failed",
                metadata: ["method": "\(request.method)", "path": "\(request.path)", "error": "\(error)"]
            )
            return .error(status: 500, code: "internal_error", message: "Internal error: \(error)")
        }
    }

    /// The server's middlewares, then the route's, without joining them into a new array
    /// for every request.
    struct Chain {
        let server: [any HTTPMiddleware<Context>]
        let route: [any HTTPMiddleware<Context>]

        private var count: Int { server.count + route.count }

        private func middleware(_ index: Int) -> any HTTPMiddleware<Context> {
            index < server.count ? server[index] : route[index - server.count]
        }

        /// Runs `willHandle` in order until one answers or throws; returns how many ran and
        /// the answer, if one was given.
        func enter(
            _ request: HTTPRequest,
            _ context: inout Context,
            answering: (any Error, HTTPRequest) -> HTTPResponse
        ) -> (entered: Int, outcome: (HTTPResponse, (any Error)?)?) {
            for index in 0..<count {
                do {
                    if let response = try middleware(index).willHandle(request, context: &context) {
                        return (index + 1, (response, nil))
                    }
                } catch {
                    return (index + 1, (answering(error, request), error))
                }
            }
            return (count, nil)
        }

        /// Runs `didHandle` in reverse order over the first `entered` middlewares.
        func leave(
            _ entered: Int,
            _ request: HTTPRequest,
            _ context: inout Context,
            _ outcome: (HTTPResponse, (any Error)?)
        ) -> HTTPResponse {
            var (response, error) = outcome
            for index in stride(from: entered - 1, through: 0, by: -1) {
                middleware(index).didHandle(request, context: &context, response: &response, error: error)
            }
            return response
        }
    }
}
