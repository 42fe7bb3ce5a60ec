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
final class RDKafkaHandle: Sendable {
    /// The `rd_kafka_t`, boxed for the threads and queues that call into it.
    private let handle: SendablePointer<OpaquePointer>
    /// The callback context, retained for as long as the handle lives.
    private let context: Unmanaged<RDKafkaCallbackContext>

    /// The `rd_kafka_t` to pass to librdkafka's calls.
    var pointer: OpaquePointer { handle.pointer }

    /// After `close()`: the handle lives on until its owner goes, but what it says then (a
    /// reconnect to brokers already stopped) is not the application's business.
    func silence() {
        context.takeUnretainedValue().silenced.store(true, ordering: .relaxed)
    }

    /// Takes ownership of a handle and of the retained context its opaque points to.
    private init(pointer: OpaquePointer, context: Unmanaged<RDKafkaCallbackContext>) {
        self.handle = SendablePointer(pointer)
        self.context = context
    }

    /// Creates a librdkafka handle of the given type from key/value properties; `configure`
    /// adds what only this type of client needs (a delivery-report callback, say).
    static func make(
        type: rd_kafka_type_t,
        properties: [String: String],
        logger: Logger,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws -> RDKafkaHandle {
        let conf = try RDKafkaConfig.make(properties: properties)
        var confOwnedByHandle = false
        defer { if !confOwnedByHandle { rd_kafka_conf_destroy(conf) } }
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

    deinit {
        let handle = handle  // nothing else holds it any more
        let context = context
        // A consumer that was not closed is not made to leave its group here: that waits on
        // the network. The group coordinator drops it after its session timeout.
        RDKafkaHandle.destroyer.async {
            rd_kafka_destroy_flags(handle.pointer, Int32(RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE))
            context.release()
        }
    }

    /// The queue that destroys released handles, off the releasing thread.
    private static let destroyer = DispatchQueue(label: "kafka.handle.destroy")
}

/// State that librdkafka's callbacks reach through the handle's opaque pointer.
final class RDKafkaCallbackContext: Sendable {
    /// Where the handle's log and error events go.
    let logger: Logger
    /// Set once the client is closed: its log and error events are dropped.
    let silenced = Atomic(false)

    /// Creates the context of a new handle.
    init(logger: Logger) {
        self.logger = logger
    }

    /// Retrieves the context registered as the handle's opaque, if any.
    static func of(_ handle: OpaquePointer?) -> RDKafkaCallbackContext? {
        guard let handle, let opaque = rd_kafka_opaque(handle) else { return nil }
        return Unmanaged<RDKafkaCallbackContext>.fromOpaque(opaque).takeUnretainedValue()
    }

    /// The context of `handle`, unless it is missing or silenced: where a callback's event goes.
    static func listening(_ handle: OpaquePointer?) -> RDKafkaCallbackContext? {
        guard let context = of(handle), !context.silenced.load(ordering: .relaxed) else { return nil }
        return context
    }
}
