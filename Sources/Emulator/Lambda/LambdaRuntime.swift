import PortContract
import PortKafka
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The exchange behind the Lambda Runtime API: the event source mapping hands an event in
/// with `invoke`, the function's runtime client takes it with `next` and answers with
/// `respond` or `fail`.
///
/// One execution environment, as a Lambda function with a reserved concurrency of 1: one
/// invocation is out at a time, the next waits for its answer. `invoke` returns the outcome:
/// the answer, the function's error, a timeout (the function did not answer by its
/// deadline; the caller restarts the environment, as Lambda does), the environment's end,
/// or "not taken" when no runtime client asked for work within the function's timeout plus
/// Lambda's 10 s init allowance.
package final class LambdaRuntime: Sendable {
    /// One invocation as the runtime client sees it.
    package struct Invocation: Sendable {
        /// `Lambda-Runtime-Aws-Request-Id`.
        package let requestID: String
        /// The event's JSON.
        package let event: [UInt8]
        /// `Lambda-Runtime-Trace-Id`.
        package let traceID: String
        /// `Lambda-Runtime-Deadline-Ms`: milliseconds since the epoch; set when handed out.
        package var deadlineMilliseconds: Int64 = 0
    }

    /// How an invocation ended.
    package enum Outcome: Sendable, Equatable {
        /// The function returned; its response body.
        case success([UInt8])
        /// The function reported an error (`errorType`, `errorMessage`).
        case functionError(type: String, message: String)
        /// No answer by the deadline.
        case timedOut
        /// The execution environment ended (the runtime process exited) during the invocation.
        case environmentEnded(String)
        /// No runtime client took it in time.
        case notTaken
        /// The caller stopped waiting (the mapping stopped); a late answer is dropped.
        case abandoned

        /// Whether the function succeeded.
        package var succeeded: Bool { if case .success = self { true } else { false } }

        /// One line for reports: `success`, `error Exception: boom`, `timeout`…
        package var summary: String {
            switch self {
            case .success: "success"
            case .functionError(let type, let message): "error \(type): \(message)"
            case .timedOut: "timeout"
            case .environmentEnded(let why): "environment ended (\(why))"
            case .notTaken: "not taken (no runtime client asked for work)"
            case .abandoned: "abandoned (the event source mapping stopped)"
            }
        }
    }

    private struct Pending {
        var invocation: Invocation
        let queued: ContinuousClock.Instant
        var deadline: ContinuousClock.Instant?
        /// nil once the caller stopped waiting: the invocation stays in flight until the
        /// function answers (the environment is busy), but nobody hears the answer.
        var resume: CheckedContinuation<Outcome, Never>?
    }

    private struct State {
        var queue: [Pending] = []
        var inFlight: Pending?
        var waiters: [(id: Int, resume: CheckedContinuation<Invocation?, Never>)] = []
        var nextWaiterID = 0
        var nextCalls = 0
        var initErrors: [String] = []
        var closed = false
    }

    private let state = Mutex(State())
    private let timeout: Duration
    private let onTimeout: @Sendable () -> Void

    /// An exchange for a function with this timeout; `onTimeout` is called when an
    /// invocation times out (to restart the environment).
    package init(timeout: Duration, onTimeout: @escaping @Sendable () -> Void = {}) {
        self.timeout = timeout
        self.onTimeout = onTimeout
    }

    /// Invokes the function with `event` and waits for the outcome.
    package func invoke(_ event: [UInt8]) async -> Outcome {
        let invocation = Invocation(
            requestID: UUID().uuidString.lowercased(),
            event: event,
            traceID: Self.traceID()
        )
        return await withTaskCancellationHandler {
            await withCheckedContinuation { resume in
                let handOut: (CheckedContinuation<Invocation?, Never>, Invocation)? = state.withLock { state in
                    if state.closed || Task.isCancelled {
                        resume.resume(returning: Task.isCancelled ? .abandoned : .notTaken)
                        return nil
                    }
                    state.queue.append(Pending(invocation: invocation, queued: .now, resume: resume))
                    return Self.handOutLocked(&state, timeout: timeout)
                }
                if let (waiter, invocation) = handOut { waiter.resume(returning: invocation) }
            }
        } onCancel: {
            let resume = state.withLock { state -> CheckedContinuation<Outcome, Never>? in
                if let index = state.queue.firstIndex(where: { $0.invocation.requestID == invocation.requestID }) {
                    return state.queue.remove(at: index).resume
                }
                guard state.inFlight?.invocation.requestID == invocation.requestID else { return nil }
                return state.inFlight?.resume.take()
            }
            resume?.resume(returning: .abandoned)
        }
    }

    /// The next invocation for a runtime client (`GET …/invocation/next`): waits until there
    /// is one; nil when the emulator stops or the caller is cancelled.
    package func next() async -> Invocation? {
        let id = state.withLock { state in
            state.nextCalls += 1
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (resume: CheckedContinuation<Invocation?, Never>) in
                enum Now {
                    case wait, end
                    case handOut(CheckedContinuation<Invocation?, Never>, Invocation)
                }
                let now: Now = state.withLock { state in
                    if state.closed || Task.isCancelled { return .end }
                    state.waiters.append((id, resume))
                    guard let (waiter, invocation) = Self.handOutLocked(&state, timeout: timeout) else { return .wait }
                    return .handOut(waiter, invocation)
                }
                switch now {
                case .end: resume.resume(returning: nil)
                case .handOut(let waiter, let invocation): waiter.resume(returning: invocation)
                case .wait: break
                }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Invocation?, Never>? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index).resume
            }
            waiter?.resume(returning: nil)
        }
    }

    /// Hands the first queued invocation to the first waiting client when none is in flight.
    private static func handOutLocked(
        _ state: inout State,
        timeout: Duration
    ) -> (CheckedContinuation<Invocation?, Never>, Invocation)? {
        guard state.inFlight == nil, !state.queue.isEmpty, !state.waiters.isEmpty else { return nil }
        var pending = state.queue.removeFirst()
        let waiter = state.waiters.removeFirst()
        pending.deadline = .now + timeout
        pending.invocation.deadlineMilliseconds =
            Int64(Date().timeIntervalSince1970 * 1000) + timeout.wholeMilliseconds
        state.inFlight = pending
        return (waiter.resume, pending.invocation)
    }

    /// The function's answer to `requestID`; false when no such invocation is in flight.
    package func respond(_ requestID: String, body: [UInt8]) -> Bool {
        finish(requestID, with: .success(body))
    }

    /// The function's error for `requestID`; false when no such invocation is in flight.
    package func fail(_ requestID: String, type: String, message: String) -> Bool {
        finish(requestID, with: .functionError(type: type, message: message))
    }

    /// The runtime's initialisation failed (`POST /runtime/init/error`): recorded, and the
    /// invocation in flight (if any) fails with it.
    package func initFailed(type: String, message: String) {
        let pending = state.withLock { state in
            state.initErrors.append("\(type): \(message)")
            if state.initErrors.count > 20 { state.initErrors.removeFirst() }  // the latest are kept
            return state.inFlight.take()
        }
        pending?.resume?.resume(returning: .functionError(type: type, message: message))
        takeNext()
    }

    /// The execution environment ended: the invocation in flight (if any) fails.
    package func environmentEnded(_ why: String) {
        let pending = state.withLock { $0.inFlight.take() }
        pending?.resume?.resume(returning: .environmentEnded(why))
        takeNext()
    }

    private func finish(_ requestID: String, with outcome: Outcome) -> Bool {
        let pending = state.withLock { state -> Pending? in
            guard state.inFlight?.invocation.requestID == requestID else { return nil }
            return state.inFlight.take()
        }
        guard let pending else { return false }
        pending.resume?.resume(returning: outcome)
        takeNext()
        return true
    }

    private func takeNext() {
        if let (waiter, invocation) = state.withLock({ Self.handOutLocked(&$0, timeout: timeout) }) {
            waiter.resume(returning: invocation)
        }
    }

    /// Ends invocations past their deadline and queued ones nobody took; call it often.
    package func expire(now: ContinuousClock.Instant = .now) {
        let (timedOut, untaken) = state.withLock { state -> (Pending?, [Pending]) in
            var timedOut: Pending?
            if let deadline = state.inFlight?.deadline, deadline <= now { timedOut = state.inFlight.take() }
            let limit = timeout + .seconds(10)
            let untaken = state.queue.filter { now - $0.queued > limit }
            state.queue.removeAll { now - $0.queued > limit }
            return (timedOut, untaken)
        }
        for pending in untaken { pending.resume?.resume(returning: .notTaken) }
        if let timedOut {
            timedOut.resume?.resume(returning: .timedOut)
            onTimeout()
        }
        if timedOut != nil || !untaken.isEmpty { takeNext() }
    }

    /// Checks deadlines until cancelled, then ends everything waiting.
    package func run() async {
        while !Task.isCancelled {
            expire()
            try? await Task.sleep(for: .milliseconds(20))
        }
        close()
    }

    /// Ends every waiting call: clients get nil, invocations `.notTaken`.
    package func close() {
        let (waiters, pending) = state.withLock { state in
            state.closed = true
            let waiters = state.waiters.map(\.resume)
            state.waiters = []
            let pending = state.queue + (state.inFlight.take().map { [$0] } ?? [])
            state.queue = []
            return (waiters, pending)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        for item in pending { item.resume?.resume(returning: .notTaken) }
    }

    /// How many times a runtime client asked for work (the function is up once it has).
    package var nextCalls: Int { state.withLock { $0.nextCalls } }

    /// Initialisation errors the runtime reported.
    package var initErrors: [String] { state.withLock { $0.initErrors } }

    /// An X-Ray trace header as Lambda sends it.
    private static func traceID() -> String {
        let seconds = String(Int(Date().timeIntervalSince1970), radix: 16)
        let random = (0..<3).map { _ in cFormat("%08x", UInt32.random(in: 0...UInt32.max)) }.joined()
        let parent = cFormat("%016llx", UInt64.random(in: 0...UInt64.max))
        return "Root=1-\(seconds)-\(random);Parent=\(parent);Sampled=0"
    }
}
