import HTTPServer

extension PortAPI {
    /// The dashboard at `/` (one page, everything inline), an empty favicon, and the OpenAPI
    /// document of the emulated routes at `/openapi.json`.
    func registerDashboard(on router: inout PortRouter) {
        router.addImmediate(.get, "/") { _ in
            HTTPResponse(
                status: 200,
                headers: [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-cache")],
                body: DashboardPage.bytes
            )
        }
        router.addImmediate(.get, "/favicon.ico") { _ in HTTPResponse(status: 204) }
        router.addImmediate(.get, "/openapi.json") { _ in
            HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: OpenAPIDocument.bytes)
        }
    }
}

extension DashboardPage {
    /// The page, encoded once.
    static let bytes = Array(html.utf8)

    /// Paths the dashboard serves, which the journal leaves out (they are not Port's API).
    static let paths: Set<String> = ["/", "/favicon.ico", "/openapi.json"]
}

extension OpenAPIDocument {
    /// The document, encoded once.
    static let bytes = Array(json.utf8)
}
