import CRdKafka
import Dispatch
import Logging
import Synchronization

/// The one owner of a librdkafka handle and of the callback context its opaque points to.
///
/// The handle is destroyed only when this owner is, so no call can reach a destroyed handle:
/// every call in progress holds the owner. Closing (leaving the group, flushing) is the
/// clients' `close()`; the owner's `deinit` only destroys, on a queue of its own, so that
/// releasing the last reference never blocks the releasing thread. librdkafka's handles are
/// thread-safe.
final class RDKafkaHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    private let context: Unmanaged<RDKafkaCallbackContext>

    /// After `close()`: the handle lives on until its owner goes, but what it says then (a
    /// reconnect to brokers already stopped) is not the application's business.
    func silence() {
        context.takeUnretainedValue().silenced.store(true, ordering: .relaxed)
    }

    init(pointer: OpaquePointer, context: Unmanaged<RDKafkaCallbackContext>) {
        self.pointer = pointer
        self.context = context
    }

    deinit {
        nonisolated(unsafe) let pointer = pointer  // nothing else holds it any more
        let context = context
        // A consumer that was not closed is not made to leave its group here: that waits on
        // the network. The group coordinator drops it after its session timeout.
        RDKafkaHandle.destroyer.async {
            rd_kafka_destroy_flags(pointer, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
            context.release()
        }
    }

    private static let destroyer = DispatchQueue(label: "kafka.handle.destroy")
}

/// State that librdkafka's callbacks reach through the handle's opaque pointer.
final class RDKafkaCallbackContext: Sendable {
    let logger: Logger
    /// Set once the client is closed: its log and error events are dropped.
    let silenced = Atomic(false)

    init(logger: Logger) {
        self.logger = logger
    }

    /// Retrieves the context registered as the handle's opaque, if any.
    static func of(_ handle: OpaquePointer?) -> RDKafkaCallbackContext? {
        guard let handle, let opaque = rd_kafka_opaque(handle) else { return nil }
        return Unmanaged<RDKafkaCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
    }
}

/// Runs blocking librdkafka calls on a dedicated serial queue, off Swift's cooperative thread pool.
struct RDKafkaBlockingQueue: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `body` on the queue and returns its result to the awaiting task.
    func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    /// Runs `body` on the queue and blocks the calling thread until it finishes.
    func runAndWait<Result>(_ body: () throws -> Result) rethrows -> Result {
        try queue.sync(execute: body)
    }
}

/// Builds librdkafka configuration objects and handles, and owns the shared callbacks.
enum RDKafkaFactory {
    /// Creates a librdkafka handle of the given type from key/value properties.
    static func makeHandle(
        type: rd_kafka_type_t,
        properties: [String: String],
        logger: Logger,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws -> RDKafkaHandle {
        guard let conf = rd_kafka_conf_new() else {
            throw KafkaError(code: .clientCreation, reason: "rd_kafka_conf_new returned NULL")
        }
        var confOwnedByHandle = false
        defer { if !confOwnedByHandle { rd_kafka_conf_destroy(conf) } }

        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            try set(key, value, on: conf)
        }
        rd_kafka_conf_set_log_cb(conf) { handle, level, facility, message in
            RDKafkaFactory.log(handle: handle, level: level, facility: facility, message: message)
        }
        rd_kafka_conf_set_error_cb(conf) { handle, error, reason, _ in
            guard let context = RDKafkaCallbackContext.of(handle), !context.silenced.load(ordering: .relaxed) else {
                return
            }
            let text = reason.map { String(cString: $0) } ?? ""
            let code = rd_kafka_resp_err_t(rawValue: error)
            context.logger.debug(
                "librdkafka error event",
                metadata: [
                    "code": "\(error)", "error": "\(String(cString: rd_kafka_err2name(code)))", "reason": "\(text)",
                ]
            )
        }
        configure(conf)

        let context = Unmanaged.passRetained(RDKafkaCallbackContext(logger: logger))
        rd_kafka_conf_set_opaque(conf, context.toOpaque())

        var errorText = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errorText, errorText.count) else {
            context.release()
            throw KafkaError(code: .clientCreation, reason: String(errorBuffer: errorText))
        }
        confOwnedByHandle = true
        return RDKafkaHandle(pointer: handle, context: context)
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

    private static func log(
        handle: OpaquePointer?,
        level: Int32,
        facility: UnsafePointer<CChar>?,
        message: UnsafePointer<CChar>?
    ) {
        guard let context = RDKafkaCallbackContext.of(handle), !context.silenced.load(ordering: .relaxed) else {
            return
        }
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
}

extension String {
    /// Decodes a NUL-terminated error buffer that librdkafka filled in.
    init(errorBuffer buffer: [CChar]) {
        self.init(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
