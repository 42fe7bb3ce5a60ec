/// What one request carries through the middlewares and its handler besides the request:
/// who sent it, what a middleware decided. A fresh value is made for every request.
public protocol HTTPRequestContext: Sendable {
    /// An empty context for a request just received.
    init()
}

/// A context that carries nothing, for servers without middlewares that need one.
public struct BasicRequestContext: HTTPRequestContext {
    /// An empty context.
    public init() {}
}

/// An error that knows its answer: a handler or middleware that throws it answers with
/// ``response`` instead of a 500 (Hummingbird's `HTTPResponseError`).
public protocol HTTPResponseError: Error {
    /// The response this error stands for.
    var response: HTTPResponse { get }
}

/// One step of the request pipeline, run around the route's handler.
///
/// The server runs its own middlewares (given to ``HTTPServer/start(configuration:router:middlewares:logger:)``)
/// for every request, the 404, 405 and 413 answers included; a route's own middlewares run
/// inside them. ``willHandle(_:context:)`` runs in order before the handler: it may fill the
/// context, answer at once (the later steps and the handler are skipped) or throw (the
/// error's response is the answer). ``didHandle(_:context:response:error:)`` then runs in
/// reverse order for every middleware whose `willHandle` ran, with the response and the
/// error it stands for, if any.
///
/// Both steps are synchronous, unlike Hummingbird's `(request, next) async` form: an
/// immediate route is answered on libmicrohttpd's I/O thread with no hand-off to a task,
/// and an async `next` would force one onto every request. An async route runs both steps
/// in its task.
public protocol HTTPMiddleware<Context>: Sendable {
    /// The context this middleware reads and fills.
    associatedtype Context: HTTPRequestContext

    /// Before the handler: `nil` to go on, a response to answer at once.
    func willHandle(_ request: HTTPRequest, context: inout Context) throws -> HTTPResponse?

    /// After the handler (or a later middleware's answer): sees the response and the error
    /// that caused it (`nil` when the handler answered), and may change the response.
    func didHandle(_ request: HTTPRequest, context: inout Context, response: inout HTTPResponse, error: (any Error)?)
}

extension HTTPMiddleware {
    /// Goes on to the next step.
    public func willHandle(_ request: HTTPRequest, context: inout Context) throws -> HTTPResponse? { nil }

    /// Leaves the response as it is.
    public func didHandle(
        _ request: HTTPRequest,
        context: inout Context,
        response: inout HTTPResponse,
        error: (any Error)?
    ) {}
}
