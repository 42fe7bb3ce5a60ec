import HTTPServer
import PortContract
import StateLog

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What the emulator's middlewares learn about one request, for the later steps.
struct PortRequestContext: HTTPRequestContext {
    /// The client the request acts for: authenticated by its token, or named in the body
    /// of a token request. `nil` until a step knows it.
    var clientID: String?
    /// The injected fault that answered or delayed this request, for the journal.
    var injectedFault: String?
    /// Set when a step has already accounted for the failure in this answer (an injected
    /// fault, or a refusal it recorded itself): it is not recorded again as a violation.
    var violationHandled = false
    /// An injected latency waiting for the route's answer, and the fault's description.
    var pendingDelay: (delay: Duration, description: String)?

    init() {}
}

/// The emulator's request pipeline, listed in one place. The server runs ``server`` for every
/// request (404, 405 and 413 answers too); Port's routes add ``port`` (or ``portPublic`` for
/// the token route) inside it. The admin API and the dashboard add nothing.
///
/// `--api-latency` is not a middleware: it chooses how a route is dispatched (from a task
/// that sleeps first), see `PortAPI.addRoute`.
struct PortPipeline: Sendable {
    let tokens: TokenStore
    let recorder: CallRecorder
    let faults: FaultInjector
    let audit: AuditLog
    let orgID: String
    /// `--state-dir`'s keeper, when the state is kept.
    var state: StateKeeper?

    /// Every request: the state written, the trace id, the journal, violations. `didHandle`
    /// runs in reverse, so a call is in the journal before its violation is recorded, and
    /// both (with every change the request made) are written before the answer leaves.
    var server: [any HTTPMiddleware<PortRequestContext>] {
        let recording: [any HTTPMiddleware<PortRequestContext>] = [
            TraceIDMiddleware(), ViolationMiddleware(tokens: tokens, recorder: recorder),
            JournalMiddleware(tokens: tokens, recorder: recorder),
        ]
        guard let state else { return recording }
        return [StateFlushMiddleware(state: state)] + recording
    }

    /// Port's routes: faults first (a faulted request never reaches auth), then the token;
    /// the audit log sees the answers of those that got through.
    var port: [any HTTPMiddleware<PortRequestContext>] {
        [
            FaultMiddleware(tokens: tokens, faults: faults), AuditMiddleware(audit: audit, orgID: orgID),
            AuthMiddleware(tokens: tokens),
        ]
    }

    /// Port's routes that take no token (`POST /v1/auth/access_token`).
    var portPublic: [any HTTPMiddleware<PortRequestContext>] { [FaultMiddleware(tokens: tokens, faults: faults)] }
}

/// Whether a request is a call to Port's API as a consumer makes it: not the emulator's own
/// admin API, not the dashboard, not the Lambda Runtime API. Only those are journaled and judged.
private func isPortCall(_ request: HTTPRequest) -> Bool {
    !request.path.hasPrefix("/_emulator/") && !request.path.hasPrefix("/2018-06-01/")
        && !DashboardPage.paths.contains(request.path)
}

/// Who a call is for: the client a step named, else the one its token names (if any).
private func client(of request: HTTPRequest, _ context: PortRequestContext, _ tokens: TokenStore) -> String? {
    context.clientID ?? tokens.clientID(forAuthorization: request.header("Authorization"))
}

/// Port's `X-Trace-Id` on every answer: a random 32-hex-digit id.
struct TraceIDMiddleware: HTTPMiddleware {
    func didHandle(
        _ request: HTTPRequest,
        context: inout PortRequestContext,
        response: inout HTTPResponse,
        error: (any Error)?
    ) {
        var randomness = IdentifierRandomness()
        response.setHeader("X-Trace-Id", Self.hex(randomness.next()) + Self.hex(randomness.next()))
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

/// Writes every call to Port's API to the journal: who, what, the status, the run it
/// touched, the fault injected into it.
struct JournalMiddleware: HTTPMiddleware {
    let tokens: TokenStore
    let recorder: CallRecorder

    func didHandle(
        _ request: HTTPRequest,
        context: inout PortRequestContext,
        response: inout HTTPResponse,
        error: (any Error)?
    ) {
        guard isPortCall(request) else { return }
        recorder.record(
            JournalEntry(
                time: Date(),
                clientID: client(of: request, context, tokens),
                method: request.method,
                path: request.path,
                status: response.status,
                runID: CallRecorder.runID(of: request),
                injected: context.injectedFault
            )
        )
    }
}

/// Records what Port's API refused as a violation: with the contract's rule when a route or
/// the token check threw a ``PortRefusal``, as the HTTP layer's refusal (404, 405, 413)
/// otherwise. Injected failures are not violations.
struct ViolationMiddleware: HTTPMiddleware {
    let tokens: TokenStore
    let recorder: CallRecorder

    func didHandle(
        _ request: HTTPRequest,
        context: inout PortRequestContext,
        response: inout HTTPResponse,
        error: (any Error)?
    ) {
        guard isPortCall(request), !context.violationHandled, response.status >= 400 || error != nil else { return }
        let clientID = client(of: request, context, tokens)
        if let refusal = error as? PortRefusal {
            recorder.record(Violation(refusing: request, with: refusal.error, clientID: clientID))
        } else if response.status >= 400 {
            recorder.record(Violation(refusedByServer: request, response: response, clientID: clientID))
        }
    }
}

/// Answers with an armed fault instead of the route, or holds the route's successful answer
/// for an injected latency (``FaultInjector``).
struct FaultMiddleware: HTTPMiddleware {
    let tokens: TokenStore
    let faults: FaultInjector

    func willHandle(_ request: HTTPRequest, context: inout PortRequestContext) -> HTTPResponse? {
        let decision = faults.decide(request) { tokens.clientID(forAuthorization: request.header("Authorization")) }
        switch decision {
        case .answer(let response, let injected)?:
            context.injectedFault = injected
            context.violationHandled = true
            return response
        case .delay(let delay, let description)?:
            context.pendingDelay = (delay, description)
            return nil
        case nil:
            return nil
        }
    }

    func didHandle(
        _ request: HTTPRequest,
        context: inout PortRequestContext,
        response: inout HTTPResponse,
        error: (any Error)?
    ) {
        // Only a route's own answer is delayed, as a slow network would deliver it.
        guard let pending = context.pendingDelay, error == nil else { return }
        response.delay = pending.delay
        context.injectedFault = pending.description
    }
}

/// Port's bearer token: a request without a valid one is refused with 401 before the route
/// runs; with one, the context names its client.
struct AuthMiddleware: HTTPMiddleware {
    let tokens: TokenStore

    func willHandle(_ request: HTTPRequest, context: inout PortRequestContext) throws -> HTTPResponse? {
        context.clientID = try PortError.typed { () throws(PortError) in
            try tokens.authenticate(authorization: request.header("Authorization"))
        }
        return nil
    }
}

/// `--state-dir`: writes every record made so far before the answer leaves, so that what a
/// client was told survives the process's death. When the directory cannot be written, the
/// answer becomes 503 `state_unwritable`: the change is in memory only.
struct StateFlushMiddleware: HTTPMiddleware {
    let state: StateKeeper

    func didHandle(
        _ request: HTTPRequest,
        context: inout PortRequestContext,
        response: inout HTTPResponse,
        error: (any Error)?
    ) {
        do throws(StateError) {
            try state.flushBeforeAnswer()
        } catch {
            response =
                PortError(
                    status: 503,
                    code: "state_unwritable",
                    message: "port-emulator could not write its --state-dir (\(error)): the change is in memory only",
                    rule: "state-dir-writable"
                )
                .response
        }
    }
}
