import Foundation
import HTTPServer
import PortContract
import Synchronization

/// Faults the admin API injects into Port's API: the next `count` requests matching a
/// method and path prefix are answered with `status` (429 with rate-limit headers, or a
/// 5xx), so consumers' retries can be tested.
public final class FaultInjector: Sendable {
    /// One armed fault.
    public struct Fault: Sendable, Equatable {
        /// The status to answer: 429 or 500–599.
        public var status: Int
        /// How many more requests it answers.
        public var remaining: Int
        /// Only requests with this method, if set.
        public var method: String?
        /// Only paths starting with this, if set.
        public var pathPrefix: String?
        /// For 429: the `Retry-After` seconds to send.
        public var retryAfterSeconds: Int
    }

    private let faults = Mutex<[Fault]>([])

    /// No faults.
    public init() {}

    /// Arms a fault.
    public func add(_ fault: Fault) {
        faults.withLock { $0.append(fault) }
    }

    /// Disarms every fault.
    public func clear() {
        faults.withLock { $0.removeAll() }
    }

    /// The faults still armed.
    public var armed: [Fault] { faults.withLock { $0 } }

    /// The injected answer for this request, if a fault matches (and uses one of its count).
    func answer(_ request: HTTPRequest) -> HTTPResponse? {
        let fault: Fault? = faults.withLock { faults in
            guard
                let index = faults.firstIndex(where: { fault in
                    (fault.method.map { $0 == request.method } ?? true)
                        && (fault.pathPrefix.map { request.path.hasPrefix($0) } ?? true)
                })
            else { return nil }
            let fault = faults[index]
            faults[index].remaining -= 1
            if faults[index].remaining <= 0 { faults.remove(at: index) }
            return fault
        }
        guard let fault else { return nil }
        var response: HTTPResponse
        if fault.status == 429 {
            response = .error(status: 429, code: "too_many_requests", message: "Rate limit exceeded (injected)")
            let reset = Int(Date().timeIntervalSince1970) + fault.retryAfterSeconds
            response.setHeader("Retry-After", String(fault.retryAfterSeconds))
            response.setHeader("x-ratelimit-limit", "1000")
            response.setHeader("x-ratelimit-remaining", "0")
            response.setHeader("x-ratelimit-reset", String(reset))
            response.setHeader("x-ratelimit-period", "60")
        } else {
            response = .error(status: fault.status, code: "internal_error", message: "Injected failure")
        }
        response.annotations[Violation.recordedAnnotation] = "injected"
        return response
    }

    /// Reads `{"status", "count"?, "method"?, "path"?, "retryAfter"?}`.
    static func fault(from body: JSONValue) throws(PortError) -> Fault {
        let object = try body.object(allowing: ["status", "count", "method", "path", "retryAfter"])
        guard let status = object["status"]?.intValue, status == 429 || (500...599).contains(status) else {
            throw .invalidRequest("body.status must be 429 or a 5xx status")
        }
        let count = object["count"]?.intValue ?? 1
        guard count >= 1 else { throw .invalidRequest("body.count must be at least 1") }
        return Fault(
            status: Int(status),
            remaining: Int(count),
            method: object["method"]?.stringValue,
            pathPrefix: object["path"]?.stringValue,
            retryAfterSeconds: Int(object["retryAfter"]?.intValue ?? 0)
        )
    }
}
