import CRdKafka
import Logging

/// librdkafka's configuration objects (`rd_kafka_conf_t`): built from key/value properties,
/// with the log and error callbacks every client shares.
enum RDKafkaConfig {
    /// Creates a configuration holding `properties` and the shared callbacks; the caller owns
    /// it until `rd_kafka_new` takes it, and destroys it if that fails.
    static func make(properties: [String: String]) throws -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .clientCreation, reason: "rd_kafka_conf_new returned NULL")
        }
        do {
            for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
                try set(key, value, on: conf)
            }
        } catch {
            rd_kafka_conf_destroy(conf)
            throw error
        }
        rd_kafka_conf_set_log_cb(conf) { handle, level, facility, message in
            RDKafkaConfig.log(handle: handle, level: level, facility: facility, message: message)
        }
        rd_kafka_conf_set_error_cb(conf) { handle, error, reason, _ in
            RDKafkaConfig.errorEvent(handle: handle, error: error, reason: reason)
        }
        return conf
    }

    /// Sets one property, naming the key (never the value, which may be a secret) on failure.
    private static func set(_ key: String, _ value: String, on conf: OpaquePointer) throws {
        var errorText = [CChar](repeating: 0, count: 512)
        let result = rd_kafka_conf_set(conf, key, value, &errorText, errorText.count)
        guard result == RD_KAFKA_CONF_OK else {
            throw KafkaError(
                code: .invalidConfiguration,
                reason: "configuration property '\(key)' was rejected: \(String(errorBuffer: errorText))"
            )
        }
    }

    /// librdkafka's log callback: the line goes to the client's logger at its syslog level.
    private static func log(
        handle: OpaquePointer?,
        level: Int32,
        facility: UnsafePointer<CChar>?,
        message: UnsafePointer<CChar>?
    ) {
        guard let context = RDKafkaCallbackContext.listening(handle) else { return }
        let text = message.map { String(cString: $0) } ?? ""
        let facilityText = facility.map { String(cString: $0) } ?? ""
        // syslog levels: 0-3 are errors, 4 warning, 5-6 notice/info, 7 debug.
        let logLevel: Logger.Level =
            switch level {
            case ...3: .error
            case 4: .warning
            case 5, 6: .info
            default: .debug
            }
        context.logger.log(level: logLevel, "\(text)", metadata: ["librdkafka.facility": "\(facilityText)"])
    }

    /// librdkafka's error callback: the event goes to the client's logger at debug level (the
    /// calls that fail report their own errors).
    private static func errorEvent(handle: OpaquePointer?, error: Int32, reason: UnsafePointer<CChar>?) {
        guard let context = RDKafkaCallbackContext.listening(handle) else { return }
        let text = reason.map { String(cString: $0) } ?? ""
        context.logger.debug(
            "librdkafka error event",
            metadata: [
                "code": "\(error)", "error": "\(RDKafkaError.name(of: error))", "reason": "\(text)",
            ]
        )
    }
}
