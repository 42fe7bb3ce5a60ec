import HTTPServer
import PortContract

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The Lambda Runtime API (version 2018-06-01) on the emulator's HTTP port, as AWS's runtime
/// interface clients call it (`awslambdaric`, `aws-lambda-ric`, custom runtimes), and the
/// emulator's view of the function under `/_emulator/lambda`.
///
/// - `GET /2018-06-01/runtime/invocation/next` waits for an invocation and answers the event
///   with `Lambda-Runtime-Aws-Request-Id`, `Lambda-Runtime-Deadline-Ms`,
///   `Lambda-Runtime-Invoked-Function-Arn` and `Lambda-Runtime-Trace-Id`.
/// - `POST …/invocation/{id}/response` and `…/{id}/error` answer 202 `{"status":"OK"}`;
///   an id not in flight is 400 `InvalidRequestID`.
/// - `POST /2018-06-01/runtime/init/error` answers 202 and fails the invocation in flight.
///
/// Bodies are limited to the server's 1 MiB (Lambda allows 6 MB); a larger one is 413.
extension LambdaHost {
    func register(on router: inout PortRouter) {
        let runtime = runtime
        let functionARN = settings.functionARN
        router.add(.get, "/2018-06-01/runtime/invocation/next") { _ in
            guard let invocation = await runtime.next() else {
                return Self.error(500, "Runtime.Stopping", "the emulator is stopping")
            }
            return HTTPResponse(
                status: 200,
                headers: [
                    ("Content-Type", "application/json"),
                    ("Lambda-Runtime-Aws-Request-Id", invocation.requestID),
                    ("Lambda-Runtime-Deadline-Ms", "\(invocation.deadlineMilliseconds)"),
                    ("Lambda-Runtime-Invoked-Function-Arn", functionARN),
                    ("Lambda-Runtime-Trace-Id", invocation.traceID),
                ],
                body: invocation.event
            )
        }
        router.addImmediate(.post, "/2018-06-01/runtime/invocation/:id/response") { request in
            runtime.respond(request.parameter("id") ?? "", body: request.body)
                ? Self.accepted : Self.invalidRequestID(request)
        }
        router.addImmediate(.post, "/2018-06-01/runtime/invocation/:id/error") { request in
            let (type, message) = Self.errorReport(request)
            return runtime.fail(request.parameter("id") ?? "", type: type, message: message)
                ? Self.accepted : Self.invalidRequestID(request)
        }
        router.addImmediate(.post, "/2018-06-01/runtime/init/error") { request in
            let (type, message) = Self.errorReport(request)
            runtime.initFailed(type: type, message: message)
            return Self.accepted
        }
        router.addImmediate(.get, "/_emulator/lambda") { [self] _ in .json(bytes: status.compactBytes) }
        router.addImmediate(.post, "/_emulator/lambda/mapping/restart") { [self] _ in
            _ = restartMapping()
            return .json(status: 202, bytes: JSONValue.object(["ok": true]).compactBytes)
        }
    }

    private static var accepted: HTTPResponse {
        .json(status: 202, bytes: JSONValue.object(["status": "OK"]).compactBytes)
    }

    private static func invalidRequestID(_ request: HTTPRequest) -> HTTPResponse {
        error(400, "InvalidRequestID", "no invocation \(request.parameter("id") ?? "") is in flight")
    }

    private static func error(_ status: Int, _ type: String, _ message: String) -> HTTPResponse {
        .json(
            status: status,
            bytes: JSONValue.object(["errorType": .string(type), "errorMessage": .string(message)]).compactBytes
        )
    }

    /// The error type and message a runtime client reported: the body's `errorType` and
    /// `errorMessage`, else the `Lambda-Runtime-Function-Error-Type` header and the body's text.
    private static func errorReport(_ request: HTTPRequest) -> (type: String, message: String) {
        let object = (try? JSONValue.parse(request.body))?.objectValue
        let type =
            object?["errorType"]?.stringValue ?? request.header("Lambda-Runtime-Function-Error-Type") ?? "Unhandled"
        let message = object?["errorMessage"]?.stringValue ?? String(decoding: request.body.prefix(500), as: UTF8.self)
        return (type, message)
    }
}
