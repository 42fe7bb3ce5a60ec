import HTTPServer
import PortContract
package import PortKafka

#if canImport(FoundationEssentials)
package import FoundationEssentials
#else
package import Foundation
#endif

/// The faults: what can be injected, and what an HTTP fault does.
extension FaultInjector {
    /// What an HTTP fault does to a matching request.
    package enum HTTPEffect: Sendable, Equatable, CustomStringConvertible {
        /// Answer with this status (429 or 5xx) instead of running the route; a 429 carries
        /// `Retry-After`.
        case status(Int, retryAfterSeconds: Int)
        /// Run the route, then hold its answer this long.
        case latency(Duration)
        /// Close the connection without answering.
        case dropConnection

        /// How the journal names it, e.g. `status 429 (Retry-After 2s)`.
        package var description: String {
            switch self {
            case .status(let status, let seconds) where status == 429: "status 429 (Retry-After \(seconds)s)"
            case .status(let status, _): "status \(status)"
            case .latency(let delay): "latency \(DurationText.format(delay))"
            case .dropConnection: "dropped connection"
            }
        }
    }

    /// An armed HTTP fault and the requests it applies to.
    package struct HTTPFault: Sendable, Equatable {
        /// What it does.
        package var effect: HTTPEffect
        /// Only requests with this method, if set.
        package var method: String?
        /// Only paths matching this, if set.
        package var path: PathPattern?
        /// How many more requests it applies to; nil for no limit.
        package var remaining: Int?
        /// The chance, from 0 to 1, that a matching request is hit.
        package var probability: Double = 1
        /// When it disarms itself, if ever.
        package var until: Date?
        /// A label that lets one group of faults be lifted alone.
        package var tag: String?
    }

    /// One fault to inject.
    package enum Fault: Sendable, Equatable {
        /// An HTTP fault on Port's API.
        case http(HTTPFault)
        /// Every token issued so far expires now; clients must fetch a new one.
        case expireTokens
        /// The embedded Kafka's brokers (or one of them) refuse connections for a while.
        case kafkaBrokerDown(broker: Int32?, duration: Duration)
        /// The next `count` requests of one Kafka API fail with `error`.
        case kafkaRequestErrors(api: KafkaAPIKey, error: KafkaResponseCode, count: Int)
        /// Every broker answers `delay` late, for `duration` (or until cleared).
        case kafkaRoundTripTime(delay: Duration, duration: Duration?)

        /// How the journal names it.
        package var description: String {
            switch self {
            case .http(let fault):
                var text = fault.effect.description
                if let method = fault.method { text += " on \(method)" }
                if let path = fault.path { text += " \(path.text)" }
                if let remaining = fault.remaining { text += ", next \(remaining)" }
                if fault.probability < 1 { text += ", p=\(fault.probability)" }
                return text
            case .expireTokens: return "expire all tokens"
            case .kafkaBrokerDown(let broker, let duration):
                return "Kafka broker \(broker.map(String.init) ?? "all") down for \(DurationText.format(duration))"
            case .kafkaRequestErrors(let api, let error, let count):
                return "Kafka \(api) fails \(count)× with \(error)"
            case .kafkaRoundTripTime(let delay, let duration):
                return "Kafka round trip +\(DurationText.format(delay))"
                    + (duration.map { " for \(DurationText.format($0))" } ?? "")
            }
        }
    }
}
