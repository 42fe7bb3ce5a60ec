/// A C pointer of librdkafka's, boxed so that it may cross concurrency domains: the one
/// `@unchecked Sendable` of this module, instead of a hand-written wrapper per owner.
///
/// Why this is safe: the box only carries the pointer, it never dereferences or frees it.
/// What it points to is thread-safe (librdkafka's client handles and mock clusters take
/// calls from any thread), and its one owner (`RDKafkaHandle`, `RDKafkaMockCluster`)
/// destroys it only once no call can reach it any more: the owner outlives every call that
/// holds it, and its lifecycle turns calls that come after closing away.
struct SendablePointer<Pointer>: @unchecked Sendable {
    /// The C pointer.
    let pointer: Pointer

    /// Boxes `pointer`.
    init(_ pointer: Pointer) {
        self.pointer = pointer
    }
}
