package import HTTPServer
package import Logging
import ServiceLifecycle

/// The server side of the HTTP benchmark; the load comes from `wrk` in another process.
package enum HTTPBenchmarks {
    /// The body every benchmark server answers with, byte for byte.
    package static let body = #"{"ok":true}"#

    /// Starts a server whose `GET /bench` (an immediate route) and `GET /bench-async` (an
    /// async route, answered from a Swift task) answer `{"ok":true}` as JSON; the async
    /// route needs the server's `run()`.
    package static func serveTrivialJSON(port: Int, threads: Int, logger: Logger) throws -> HTTPServer {
        var router = HTTPRouter<BasicRequestContext>()
        let bytes = Array(body.utf8)
        router.addImmediate(.get, "/bench") { _ in .json(bytes: bytes) }
        router.add(.get, "/bench-async") { _ in .json(bytes: bytes) }
        var configuration = HTTPServer.Configuration()
        configuration.port = port
        configuration.threadPoolSize = threads
        return try HTTPServer.start(configuration: configuration, router: router, logger: logger)
    }

    /// Serves the benchmark route until a graceful shutdown.
    package struct Service: ServiceLifecycle.Service {
        let port: Int
        let threads: Int
        let logger: Logger
        let onReady: @Sendable (String) -> Void

        /// Creates the service; `onReady` receives the server's base URL.
        package init(port: Int, threads: Int, logger: Logger, onReady: @escaping @Sendable (String) -> Void) {
            self.port = port
            self.threads = threads
            self.logger = logger
            self.onReady = onReady
        }

        /// Serves until SIGINT or SIGTERM, then stops the server.
        package func run() async throws {
            let server = try serveTrivialJSON(port: port, threads: threads, logger: logger)
            onReady(server.baseURL)
            try await server.run()
        }
    }
}
