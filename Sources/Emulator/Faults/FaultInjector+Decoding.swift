package import PortContract
import PortKafka

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension FaultInjector {
    /// Reads a fault from the admin API's JSON (any kind may carry a `tag`):
    /// - HTTP (`kind` omitted or `http`): one of `status` (429 or 5xx; `retryAfter` seconds
    ///   for 429), `latency` (a duration) or `drop: true`; optional `method`, `path` (a
    ///   `PathPattern`), `count`, `probability` (0–1) and `duration`;
    /// - `{"kind": "expire-tokens"}`;
    /// - `{"kind": "kafka-broker-down", "duration": "3s", "broker"?: 1}`;
    /// - `{"kind": "kafka-request-errors", "api": "Fetch", "error": "NOT_LEADER_FOR_PARTITION", "count"?: 1}`;
    /// - `{"kind": "kafka-rtt", "delay": "200ms", "duration"?: "5s"}`.
    package static func fault(from body: JSONValue) throws(PortError) -> Fault {
        guard let kind = body["kind"]?.stringValue ?? (body["kind"] == nil ? "http" : nil) else {
            throw .invalidRequest("body.kind must be a string")
        }
        switch kind {
        case "http":
            let object = try body.object(allowing: [
                "kind", "status", "retryAfter", "latency", "drop", "method", "path", "count", "probability", "duration",
                "tag",
            ])
            let effect: HTTPEffect
            switch (object["status"], object["latency"], object["drop"]) {
            case (let status?, nil, nil):
                guard let code = status.intValue, code == 429 || (500...599).contains(code) else {
                    throw .invalidRequest("body.status must be 429 or a 5xx status")
                }
                let retryAfter = object["retryAfter"]?.intValue ?? 0
                guard retryAfter >= 0 else { throw .invalidRequest("body.retryAfter must be 0 or more seconds") }
                effect = .status(Int(code), retryAfterSeconds: Int(retryAfter))
            case (nil, let latency?, nil):
                effect = .latency(try duration(latency, "latency"))
            case (nil, nil, .bool(true)):
                effect = .dropConnection
            default:
                throw .invalidRequest("an HTTP fault needs exactly one of body.status, body.latency or body.drop: true")
            }
            var fault = HTTPFault(effect: effect)
            fault.tag = object["tag"]?.stringValue
            fault.method = try object["method"].map { value throws(PortError) in
                guard let method = value.stringValue?.uppercased() else {
                    throw .invalidRequest("body.method must be a string")
                }
                return method
            }
            fault.path = try object["path"].map { value throws(PortError) in
                guard let path = value.stringValue, path.hasPrefix("/") else {
                    throw .invalidRequest("body.path must be a path pattern starting with /")
                }
                return PathPattern(path)
            }
            if let count = object["count"] {
                guard let value = count.intValue, value >= 1 else {
                    throw .invalidRequest("body.count must be at least 1")
                }
                fault.remaining = Int(value)
            } else if object["probability"] == nil && object["duration"] == nil {
                fault.remaining = 1
            }
            if let probability = object["probability"] {
                guard let value = probability.doubleValue, value > 0, value <= 1 else {
                    throw .invalidRequest("body.probability must be a number above 0 and at most 1")
                }
                fault.probability = value
            }
            if let lifetime = object["duration"] {
                fault.until = Date().addingTimeInterval(try duration(lifetime, "duration").seconds)
            }
            return .http(fault)
        case "expire-tokens":
            _ = try body.object(allowing: ["kind", "tag"])
            return .expireTokens
        case "kafka-broker-down":
            let object = try body.object(allowing: ["kind", "duration", "broker", "tag"])
            guard let lifetime = object["duration"] else {
                throw .invalidRequest("body.duration is required, e.g. \"3s\"")
            }
            let broker = try object["broker"].map { value throws(PortError) in
                guard let id = value.intValue else { throw .invalidRequest("body.broker must be a broker id") }
                return Int32(clamping: id)
            }
            return .kafkaBrokerDown(broker: broker, duration: try duration(lifetime, "duration"))
        case "kafka-request-errors":
            let object = try body.object(allowing: ["kind", "api", "error", "count", "tag"])
            guard let name = object["api"]?.stringValue, let api = KafkaAPIKey(name: name) else {
                throw .invalidRequest("body.api must be one of \(KafkaAPIKey.knownNames.joined(separator: ", "))")
            }
            guard let errorName = object["error"]?.stringValue, let error = KafkaResponseCode(name: errorName) else {
                throw .invalidRequest("body.error must be a Kafka error name, e.g. NOT_LEADER_FOR_PARTITION")
            }
            let count = object["count"]?.intValue ?? 1
            guard (1...10_000).contains(count) else { throw .invalidRequest("body.count must be 1 to 10000") }
            return .kafkaRequestErrors(api: api, error: error, count: Int(count))
        case "kafka-rtt":
            let object = try body.object(allowing: ["kind", "delay", "duration", "tag"])
            guard let delay = object["delay"] else { throw .invalidRequest("body.delay is required, e.g. \"200ms\"") }
            return .kafkaRoundTripTime(
                delay: try duration(delay, "delay"),
                duration: try object["duration"].map { value throws(PortError) in try duration(value, "duration") }
            )
        default:
            throw .invalidRequest(
                "body.kind must be http, expire-tokens, kafka-broker-down, kafka-request-errors or kafka-rtt"
            )
        }
    }

    private static func duration(_ value: JSONValue, _ field: String) throws(PortError) -> Duration {
        guard let text = value.stringValue, let duration = DurationText.parse(text) else {
            throw .invalidRequest("body.\(field) must be a duration such as \"500ms\" or \"3s\"")
        }
        return duration
    }
}
