import CMicroHTTPD
import Dispatch
public import Logging
public import ServiceLifecycle
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// An HTTP/1.1 server over libmicrohttpd with a router and `async` handlers.
///
/// libmicrohttpd's thread pool (over poll) does the socket work. Once a request's body is
/// complete, an immediate route (`HTTPRouter.addImmediate`) is answered right there on the
/// I/O thread; an async route (`HTTPRouter.add`) is handed to a Swift task and its
/// connection suspended until the handler answers, so slow handlers hold no server thread.
/// Bodies over
/// `Configuration.maxBodySize` are answered with 413, unknown paths with 404, a known path
/// with the wrong method with 405 and an `Allow` header, and a handler that throws with 500.
///
/// `start` binds and serves the immediate routes at once; the async routes' handlers are
/// child tasks of `run()`, which a `ServiceGroup` (or a task of the caller's) must be
/// running. `run()` returns once the server is stopped, by `stop()` or by a graceful
/// shutdown, and every handler has ended.
public final class HTTPServer: Service, Sendable {
    /// Settings for a server.
    public struct Configuration: Sendable {
        /// The IPv4 address to bind; `127.0.0.1` keeps the server local.
        public var host: String = "127.0.0.1"
        /// The port to bind; 0 picks a free one (read it back from `HTTPServer.port`).
        public var port: Int = 0
        /// libmicrohttpd's worker threads, which do socket I/O only.
        public var threadPoolSize: Int = max(2, ProcessInfo.processInfo.activeProcessorCount)
        /// The largest request body accepted; larger ones get 413.
        public var maxBodySize: Int = 1 << 20
        /// The most connections held open at once.
        public var connectionLimit: Int = 1024
        /// How long an idle connection is kept.
        public var connectionTimeout: Duration = .seconds(30)
        /// The answer to a body over `maxBodySize` (Port's wording by default).
        public var bodyTooLargeResponse: HTTPResponse = .error(
            status: 413,
            code: "bad_request",
            message: "Request body is too large (limit is 1MiB)"
        )
        /// How long requests in progress may take to finish when a graceful shutdown stops `run()`.
        public var shutdownGracePeriod: Duration = .seconds(5)
        /// Creates the default configuration: 127.0.0.1, a free port, a 1 MiB body limit.
        public init() {}
    }

    private let core: HTTPServerCore
    private let daemon: Mutex<MHDDaemon?>

    /// The port the server listens on (the real one when configured with port 0).
    public let port: Int
    /// The address the server listens on.
    public let host: String

    /// `http://host:port`, for clients.
    public var baseURL: String { "http://\(host):\(port)" }

    private init(core: HTTPServerCore, daemon: MHDDaemon, port: Int, host: String) {
        self.core = core
        self.daemon = Mutex(daemon)
        self.port = port
        self.host = host
    }

    /// Binds the address and starts serving `router`'s routes, each request through
    /// `middlewares` (in order) and then the route's own.
    public static func start<Context: HTTPRequestContext>(
        configuration: Configuration = Configuration(),
        router: HTTPRouter<Context>,
        middlewares: [any HTTPMiddleware<Context>] = [],
        logger: Logger = Logger(label: "http.server")
    ) throws -> HTTPServer {
        guard (0...65535).contains(configuration.port) else {
            throw HTTPServerError(message: "port \(configuration.port) is out of range 0-65535")
        }
        guard configuration.threadPoolSize >= 1, configuration.maxBodySize >= 0 else {
            throw HTTPServerError(message: "thread pool size must be at least 1 and the body limit not negative")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(configuration.port).bigEndian)
        let host = configuration.host == "localhost" ? "127.0.0.1" : configuration.host
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw HTTPServerError(message: "'\(configuration.host)' is not an IPv4 address to bind")
        }

        let pipeline = HTTPPipeline(router: router, middlewares: middlewares, logger: logger)
        let core = HTTPServerCore(pipeline: pipeline, configuration: configuration, logger: logger)
        let context = Unmanaged.passRetained(core)
        let pointer = withUnsafePointer(to: &address) { addressPointer in
            addressPointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                cmhd_start_daemon(
                    UInt16(configuration.port),
                    socketAddress,
                    UInt32(configuration.threadPoolSize),
                    UInt32(configuration.connectionLimit),
                    UInt32(clamping: configuration.connectionTimeout.components.seconds),
                    { cls, connection, url, method, _, uploadData, uploadDataSize, requestContext in
                        MHDBridge.access(
                            cls: cls,
                            connection: connection,
                            url: url,
                            method: method,
                            uploadData: uploadData,
                            uploadDataSize: uploadDataSize,
                            requestContext: requestContext
                        )
                    },
                    context.toOpaque(),
                    { cls, _, requestContext, _ in MHDBridge.completed(cls: cls, requestContext: requestContext) },
                    context.toOpaque()
                )
            }
        }
        guard let pointer else {
            let reason = String(cString: strerror(errno))
            context.release()
            throw HTTPServerError(message: "could not listen on \(host):\(configuration.port): \(reason)")
        }
        let daemon = MHDDaemon(pointer: pointer, context: context)
        let port = Int(cmhd_bound_port(pointer))
        logger.debug("HTTP server listening", metadata: ["address": "\(host):\(port)"])
        return HTTPServer(core: core, daemon: daemon, port: port, host: host)
    }

    /// Runs the async routes' handlers as child tasks until the server is stopped; a
    /// graceful shutdown stops it with `Configuration.shutdownGracePeriod`, and cancelling
    /// this call cancels the handlers (they answer 503) and stops it at once.
    public func run() async throws {
        await withDiscardingTaskGroup { handlers in
            await withGracefulShutdownHandler {
                for await event in core.events {
                    switch event {
                    case .answer(let answer): handlers.addTask(operation: answer)
                    case .cancelHandlers: handlers.cancelAll()
                    case .stop(let grace): handlers.addTask { await self.stop(gracePeriod: grace) }
                    }
                }
            } onGracefulShutdown: { [core] in
                core.requestStop(within: core.configuration.shutdownGracePeriod)
            }
            // Cancelled: the loop ended at once. Stop now; the handlers are cancelled with
            // the group (a request arriving during this stop is dropped).
            if Task.isCancelled { await stop(gracePeriod: .zero) }
        }
    }

    /// Stops gracefully: refuses new connections at once, lets requests in progress finish
    /// for up to `gracePeriod`, cancels the handlers still running, then closes everything
    /// and lets `run()` return.
    public func stop(gracePeriod: Duration = .seconds(5)) async {
        guard let daemon = daemon.withLock({ $0.take() }) else { return }
        let listener = Self.quiesce(daemon)
        let deadline = ContinuousClock.now + gracePeriod
        while core.activeRequests > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        core.cancelHandlers()
        await withCheckedContinuation { continuation in
            DispatchQueue(label: "http.server.stop").async { [core] in
                Self.destroy(daemon, listener: listener, core: core)
                continuation.resume()
            }
        }
        core.finishEvents()
    }

    /// Stops accepting: libmicrohttpd no longer accepts, and shutting the listening socket
    /// down makes the kernel refuse new connections instead of queueing them.
    private static func quiesce(_ daemon: MHDDaemon) -> MHD_socket {
        let listener = MHD_quiesce_daemon(daemon.pointer)
        if listener >= 0 { shutdown(listener, Int32(SHUT_RDWR)) }
        return listener
    }

    /// Waits (blocking) until no connection is suspended and every answer has been sent,
    /// then stops libmicrohttpd.
    ///
    /// libmicrohttpd aborts the process when stopped with a suspended connection, so a
    /// handler that ignores cancellation for more than two seconds leaks the daemon instead.
    private static func destroy(_ daemon: MHDDaemon, listener: MHD_socket, core: HTTPServerCore) {
        let deadline = ContinuousClock.now + .seconds(2)
        // Resumed is not sent: wait for each request's completion callback too, or stopping
        // the daemon closes the connection before the cancelled handler's 503 goes out.
        while core.suspendedConnections > 0 || core.activeRequests > 0, ContinuousClock.now < deadline {
            usleep(1000)
        }
        guard core.suspendedConnections == 0 else {
            core.logger.error(
                "handlers ignored cancellation; leaving the HTTP daemon running",
                metadata: ["suspended": "\(core.suspendedConnections)"]
            )
            return
        }
        daemon.destroy(listener: listener)
    }

    /// The number of requests received and not yet fully answered.
    public var activeRequests: Int { core.activeRequests }

    deinit {
        // Never stopped: no handler can be running (run() holds the server), so stop the
        // daemon on a queue of its own rather than block the releasing thread.
        guard let daemon = daemon.withLock({ $0.take() }) else { return }
        let core = core
        DispatchQueue(label: "http.server.release").async {
            Self.destroy(daemon, listener: Self.quiesce(daemon), core: core)
            core.finishEvents()
        }
    }
}

/// Why a server could not start.
public struct HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, in one line.
    public let message: String
    /// The message.
    public var description: String { message }
}

/// The running daemon and the retained context libmicrohttpd's callbacks see.
struct MHDDaemon: @unchecked Sendable {
    let pointer: OpaquePointer
    let context: Unmanaged<HTTPServerCore>

    /// Stops libmicrohttpd's threads (blocking), closes the quiesced listener and drops the context.
    func destroy(listener: MHD_socket) {
        MHD_stop_daemon(pointer)
        if listener >= 0 { close(listener) }
        context.release()
    }
}

/// A libmicrohttpd connection, passed to the task that answers it.
struct MHDConnection: @unchecked Sendable {
    let pointer: OpaquePointer
}

/// Routing, handler tasks and request accounting shared by the server and its C callbacks.
final class HTTPServerCore: Sendable {
    let pipeline: any HTTPRequestPipeline
    let configuration: HTTPServer.Configuration
    let logger: Logger
    private let requestCount = Atomic<Int>(0)
    private let suspendedCount = Atomic<Int>(0)
    /// What `run()` does next: start a handler, or cancel those running.
    enum Event: Sendable {
        case answer(@Sendable () async -> Void)
        case cancelHandlers
        case stop(Duration)
    }
    let events: AsyncStream<Event>
    private let eventSink: AsyncStream<Event>.Continuation

    init(pipeline: any HTTPRequestPipeline, configuration: HTTPServer.Configuration, logger: Logger) {
        self.pipeline = pipeline
        self.configuration = configuration
        self.logger = logger
        (events, eventSink) = AsyncStream.makeStream(of: Event.self)
    }

    /// Ends `run()`'s loop, once the daemon can start no more handlers.
    func finishEvents() { eventSink.finish() }

    /// Has `run()` stop the server in a child task, as `stop(gracePeriod:)` does.
    func requestStop(within grace: Duration) { eventSink.yield(.stop(grace)) }

    var activeRequests: Int { requestCount.load(ordering: .relaxed) }

    func requestStarted() { requestCount.add(1, ordering: .relaxed) }

    func requestCompleted() { requestCount.subtract(1, ordering: .relaxed) }

    /// Connections waiting for a handler; libmicrohttpd must not be stopped while any are.
    var suspendedConnections: Int { suspendedCount.load(ordering: .acquiring) }

    func connectionSuspended() { suspendedCount.add(1, ordering: .releasing) }

    func connectionResumed() { suspendedCount.subtract(1, ordering: .releasing) }

    /// In a task: takes the answer (the pipeline's, or a response held for its `delay`),
    /// holds it for its `delay` (a stop cancels the wait and it goes out at once), hands it to
    /// the suspended connection and resumes it.
    func resume(
        _ connection: MHDConnection,
        of state: MHDRequestState,
        with answer: @escaping @Sendable () async -> HTTPResponse
    ) {
        eventSink.yield(
            .answer {
                var response = await answer()
                if response.delay > .zero {
                    try? await Task.sleep(for: response.delay)
                    response.delay = .zero
                }
                state.deliver(response)
                MHD_resume_connection(connection.pointer)
            }
        )
    }

    /// Cancels the handlers running, and those started from now on.
    func cancelHandlers() {
        eventSink.yield(.cancelHandlers)
    }
}
