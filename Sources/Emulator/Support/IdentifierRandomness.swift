import Synchronization

/// A fast, lock-free source of random-looking 64-bit values for identifiers and trace ids.
///
/// The system generator makes one `getrandom` call per value, which showed up in the
/// request path; these ids need to be unique and unpredictable-looking, not secret. One
/// random seed at start-up, then SplitMix64 over an atomic counter.
struct IdentifierRandomness: RandomNumberGenerator {
    private static let seed = UInt64.random(in: .min ... .max)
    private static let counter = Atomic<UInt64>(0)

    /// The next value.
    mutating func next() -> UInt64 {
        let step = Self.counter.wrappingAdd(1, ordering: .relaxed).newValue
        var mixed = Self.seed &+ step &* 0x9E37_79B9_7F4A_7C15
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
