import HTTPServer
import KafkaBroker
import KafkaFront
import KafkaProtocol
package import PortContract
import PortKafka
import ServiceLifecycle
import Synchronization

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Faults injected at runtime, so a consumer's resilience can be tested: HTTP answers of
/// Port's API (an error status, added latency, a dropped connection), expiring every token,
/// and Kafka faults through the embedded cluster's hooks. Every injected fault is written to
/// the journal, so a report can tell an injected failure from a real one.
package final class FaultInjector: Sendable {
    /// What a request gets: an injected answer instead of the route's, or the route's answer
    /// with changes.
    enum Decision {
        /// Answer with this instead of the route: an injected failure (`injected` names the
        /// fault), or, with `injected` nil, a repeat inside a `Retry-After` window, already
        /// recorded as a violation.
        case answer(HTTPResponse, injected: String?)
        /// The route answers, and its answer is held for `delay`; `description` names the fault.
        case delay(Duration, description: String)
    }

    private struct State {
        var http: [HTTPFault] = []
        /// `client method path` → the end of the `Retry-After` window a 429 opened.
        var rateLimited: [String: Date] = [:]
        /// Restore timers scheduled and not yet ended.
        var timers = 0
        /// Moved on by `clear()`: a timer scheduled before it restores nothing.
        var generation = 0
        /// Set by `stop()`: no timer is scheduled any more (the cluster is going away).
        var stopped = false
        var random = IdentifierRandomness()
    }

    /// The header test tools send on their own calls (`verify`'s triggers and approvals):
    /// faults are for the consumer under test, so requests carrying it are never faulted.
    package static let exemptionHeader = "X-Port-Emulator-Tester"

    private let state = Mutex(State())
    private let tokens: TokenStore
    private let recorder: CallRecorder
    private let kafka: EmbeddedFront?
    /// The restore timers, children of `run()`.
    private let timers = ChildTasks()

    /// A fault injector over these tokens, journal and (embedded) Kafka broker.
    init(tokens: TokenStore, recorder: CallRecorder, kafka: EmbeddedFront?) {
        self.tokens = tokens
        self.recorder = recorder
        self.kafka = kafka
    }

    /// Injects a fault and writes it to the journal. Kafka faults need the embedded cluster.
    package func inject(_ fault: Fault) throws(PortError) {
        guard !state.withLock({ $0.stopped }) else {
            throw PortError(
                status: 503,
                code: "unavailable",
                message: "the emulator is stopping",
                rule: "emulator-running"
            )
        }
        switch fault {
        case .http(let http):
            state.withLock { $0.http.append(http) }
        case .expireTokens:
            tokens.expireAll()
        case .kafkaBrokerDown(let broker, let duration):
            let kafka = try embeddedKafka(for: fault)
            let nodes = kafka.broker.nodeIDs
            let ids = broker.map { [$0] } ?? nodes
            guard ids.allSatisfy(nodes.contains) else {
                throw .invalidRequest("body.broker must be between 1 and \(nodes.count)")
            }
            for id in ids { kafka.front.setNode(id, down: true) }
            schedule(after: duration, "Kafka brokers up again") {
                for id in ids { kafka.front.setNode(id, down: false) }
            }
        case .kafkaRequestErrors(let api, let error, let count):
            let code = KafkaErrorCode(rawValue: Int16(clamping: error.rawValue)) ?? .unknownServerError
            try embeddedKafka(for: fault).broker.injectErrors(api.rawValue, Array(repeating: code, count: count))
        case .kafkaRoundTripTime(let delay, let duration):
            let kafka = try embeddedKafka(for: fault)
            kafka.broker.setRoundTripTime(delay)
            if let duration {
                schedule(after: duration, "Kafka round trip back to normal") { kafka.broker.setRoundTripTime(.zero) }
            }
        }
        journal(fault.description)
    }

    /// Disarms every fault: HTTP faults and open `Retry-After` windows are forgotten, and the
    /// Kafka cluster is restored (brokers up, no added round trip, no pending request errors).
    package func clear() {
        state.withLock { state in
            state.http.removeAll()
            state.rateLimited.removeAll()
            state.generation += 1  // the pending restore timers restore nothing
        }
        guard let kafka else { return }
        for id in kafka.broker.nodeIDs { kafka.front.setNode(id, down: false) }
        kafka.broker.setRoundTripTime(.zero)
        kafka.broker.clearInjectedErrors()
    }

    /// Disarms the HTTP faults carrying `tag`, leaving every other fault in place.
    package func clear(tag: String) {
        state.withLock { $0.http.removeAll { $0.tag == tag } }
    }

    /// The HTTP faults still armed.
    package var armed: [HTTPFault] {
        let now = Date()
        return state.withLock { $0.http.filter { $0.until.map { $0 > now } ?? true } }
    }

    /// What happens to this request: nil when no fault applies. A request a client repeats
    /// inside the `Retry-After` window of a 429 it got is refused again, as a violation.
    func decide(_ request: HTTPRequest, clientID clientIDOfRequest: () -> String?) -> Decision? {
        guard state.withLock({ !$0.http.isEmpty || !$0.rateLimited.isEmpty }),
            request.header(Self.exemptionHeader) == nil
        else { return nil }
        let clientID = clientIDOfRequest()
        let now = Date()
        // The same request again: same client, method, path and query (a burst's entity
        // writes share a path and differ in run_id).
        let query = request.queryItems.map { "\($0.name)=\($0.value)" }.sorted().joined(separator: "&")
        let windowKey = "\(clientID ?? "-") \(request.method) \(request.path)?\(query)"
        let (fault, windowEnd): (HTTPFault?, Date?) = state.withLock { state in
            if let end = state.rateLimited[windowKey] {
                if end > now { return (nil, end) }
                state.rateLimited[windowKey] = nil
            }
            guard !state.http.isEmpty else { return (nil, nil) }
            state.http.removeAll { fault in fault.until.map { $0 <= now } ?? false }
            for index in state.http.indices {
                let fault = state.http[index]
                guard fault.method.map({ $0 == request.method }) ?? true,
                    fault.path.map({ $0.matches(request.path) }) ?? true
                else { continue }
                if fault.probability < 1, Double(state.random.next() >> 11) / Double(1 << 53) >= fault.probability {
                    continue
                }
                if let remaining = fault.remaining {
                    if remaining <= 1 {
                        state.http.remove(at: index)
                    } else {
                        state.http[index].remaining = remaining - 1
                    }
                }
                if case .status(429, let seconds) = fault.effect, seconds > 0 {
                    state.rateLimited[windowKey] = now.addingTimeInterval(TimeInterval(seconds))
                }
                return (fault, nil)
            }
            return (nil, nil)
        }
        if let windowEnd {
            let seconds = Int(windowEnd.timeIntervalSince(now).rounded(.up))
            let error = PortError(
                status: 429,
                code: "too_many_requests",
                message: "Rate limit exceeded: this request was repeated before its Retry-After window ended",
                rule: "retry-after-respected"
            )
            recorder.record(Violation(refusing: request, with: error, clientID: clientID))
            return .answer(Self.rateLimited(error, retryAfter: seconds), injected: nil)
        }
        guard let fault else { return nil }
        var response: HTTPResponse
        switch fault.effect {
        case .status(429, let seconds):
            response = Self.rateLimited(
                PortError(status: 429, code: "too_many_requests", message: "Rate limit exceeded (injected)", rule: ""),
                retryAfter: seconds
            )
        case .status(let status, _):
            response = .error(status: status, code: "internal_error", message: "Injected failure")
        case .dropConnection:
            response = .error(status: 502, code: "connection_dropped", message: "")
            response.dropsConnection = true
        case .latency(let delay):
            return .delay(delay, description: fault.effect.description)
        }
        return .answer(response, injected: fault.effect.description)
    }

    private static func rateLimited(_ error: PortError, retryAfter seconds: Int) -> HTTPResponse {
        var response = HTTPResponse.error(status: 429, code: error.code, message: error.message)
        response.setHeader("Retry-After", String(seconds))
        response.setHeader("x-ratelimit-limit", "1000")
        response.setHeader("x-ratelimit-remaining", "0")
        response.setHeader("x-ratelimit-reset", String(Int(Date().timeIntervalSince1970) + seconds))
        response.setHeader("x-ratelimit-period", "60")
        return response
    }

    private func embeddedKafka(for fault: Fault) throws(PortError) -> EmbeddedFront {
        guard let kafka else {
            throw PortError(
                status: 422,
                code: "invalid_request",
                message: "\(fault.description): Kafka faults need the embedded Kafka (serve without --kafka-bootstrap)",
                rule: "kafka-fault-embedded"
            )
        }
        return kafka
    }

    /// Schedules a restore as a child task of `run()`; a stop cancels it before it restores.
    private func schedule(after delay: Duration, _ what: String, _ restore: @escaping @Sendable () -> Void) {
        let generation = state.withLock { state -> Int? in
            guard !state.stopped else { return nil }
            state.timers += 1
            return state.generation
        }
        guard let generation else { return }
        timers.add { [self] in
            defer { state.withLock { $0.timers -= 1 } }
            do { try await Task.sleep(for: delay) } catch { return }
            guard state.withLock({ $0.generation == generation && !$0.stopped }) else { return }
            restore()
            journal(what)
        }
    }

    /// Runs the restore timers until a graceful shutdown, which cancels them; returns once
    /// none is running, so nothing touches the Kafka cluster after it (the emulator's
    /// service group stops the cluster after this).
    package func run() async {
        await withGracefulShutdownHandler {
            await timers.run()
        } onGracefulShutdown: { [self] in
            stopScheduling()
        }
    }

    /// Refuses new faults that need a timer and cancels the pending timers.
    private func stopScheduling() {
        state.withLock { $0.stopped = true }
        timers.cancelAll()
        timers.finish()
    }

    /// How many restore timers are pending (for tests).
    package var pendingTimers: Int { state.withLock { $0.timers } }

    private func journal(_ description: String) {
        recorder.record(
            JournalEntry(
                time: Date(),
                clientID: nil,
                method: "FAULT",
                path: "",
                status: 0,
                runID: nil,
                injected: description
            )
        )
    }
}
