import KafkaProtocol
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// A bounded random-input harness for everything that reads what a client sends: random
/// bytes and mutations of valid requests (every API and version served) go through the
/// header parser and the codec, and every request that decodes must encode back and decode
/// to the same value; the SCRAM exchange takes random messages too. A crash ends the process
/// (the run fails); a parser must only ever return or throw `KafkaWireError`. The suite runs
/// tens of thousands of inputs, `make bench` a million.
package enum FrontFuzzer {
    /// What a run tried.
    package struct Result: Sendable {
        /// Inputs tried in all.
        package var inputs = 0
        /// Of those, how many parsed without an error (the rest were refused cleanly).
        package var accepted = 0
        /// Requests that decoded but did not encode back to an equal value (must stay 0).
        package var roundTripFailures: [String] = []
    }

    /// Tries `iterations` inputs from `seed` (same seed, same inputs).
    package static func run(iterations: Int, seed: UInt64) -> Result {
        var random = SplitMix64(seed: seed)
        var result = Result()
        let schemas = KafkaSchemas.requests.values.sorted { $0.apiKey < $1.apiKey }
        for index in 0..<iterations {
            result.inputs += 1
            let schema = schemas[Int(random.next() % UInt64(schemas.count))]
            let span = Int(schema.valid.highest - schema.valid.lowest) + 1
            let version = schema.valid.lowest + Int16(random.next() % UInt64(span))
            switch index % 4 {
            case 0:
                // A header for a served API and version, then random bytes.
                let frame = KafkaRequest.frame(apiKey: schema.apiKey, version: version, correlationID: 7) {
                    $0.writeBytes(random.bytes(Int(random.next() % 200)))
                }
                if parseRequest(frame, &result) { result.accepted += 1 }
            case 1, 2:
                let sample = KafkaSample.value(schema.root, version: version, random: &random)
                guard let body = try? KafkaCodec.encode(sample, as: schema, version: version) else {
                    result.roundTripFailures.append("\(schema.name) v\(version): a sample does not encode")
                    continue
                }
                var frame = KafkaRequest.frame(apiKey: schema.apiKey, version: version, correlationID: 7)
                frame.writeImmutableBuffer(body)
                if parseRequest(index % 4 == 1 ? random.mutate(frame) : frame, &result) { result.accepted += 1 }
            default:
                var exchange = ScramServerExchange(mechanism: .sha512) { user, mechanism in
                    user == "fuzz" ? fuzzCredential : nil
                }
                let first = Array("n,,n=fuzz,r=".utf8) + random.bytes(Int(random.next() % 40))
                _ = exchange.receive(random.next() % 2 == 0 ? first : random.bytes(Int(random.next() % 80)))
                if case .failure = exchange.receive(random.bytes(Int(random.next() % 160))) {
                } else {
                    result.accepted += 1
                }
            }
        }
        return result
    }

    private static let fuzzCredential = ScramCredential(mechanism: .sha512, password: "fuzz", iterations: 16)

    /// The header and the body as the front and the broker read them; a body that decodes
    /// must encode and decode again to the same value.
    private static func parseRequest(_ frame: ByteBuffer, _ result: inout Result) -> Bool {
        do {
            let request = try KafkaRequest(frame: frame)
            guard let schema = KafkaSchemas.requests[request.apiKey] else { return false }
            var body = request.body
            let value = try KafkaCodec.decode(schema, version: request.apiVersion, from: &body)
            var again = try KafkaCodec.encode(value, as: schema, version: request.apiVersion)
            if try KafkaCodec.decode(schema, version: request.apiVersion, from: &again) != value {
                result.roundTripFailures.append("\(schema.name) v\(request.apiVersion): \(value)")
            }
            return true
        } catch {
            return false
        }
    }
}

/// Random values of a schema at a version, as a fuzzer's seeds: arrays of up to two
/// elements, nullable fields sometimes null, strings sometimes not ASCII.
enum KafkaSample {
    static func value(_ schema: KafkaStructSchema, version: Int16, random: inout SplitMix64) -> KafkaStruct {
        var value = KafkaStruct()
        for field in schema.fields where field.versions.contains(version) {
            if field.nullable.contains(version), random.next() % 4 == 0 {
                value[field.name] = .null
            } else {
                value[field.name] = sample(field.type, version: version, random: &random)
            }
        }
        return value
    }

    private static func sample(_ type: KafkaType, version: Int16, random: inout SplitMix64) -> KafkaValue {
        let bits = random.next()
        switch type {
        case .bool: return .bool(bits % 2 == 0)
        case .int8: return .int(Int64(Int8(truncatingIfNeeded: bits)))
        case .int16: return .int(Int64(Int16(truncatingIfNeeded: bits)))
        case .int32: return .int(Int64(Int32(truncatingIfNeeded: bits)))
        case .int64: return .int(Int64(bitPattern: bits))
        case .uint16: return .int(Int64(UInt16(truncatingIfNeeded: bits)))
        case .float64: return .float(Double(bits % 1000) / 8)
        case .string: return .string(["org_emulator.runs", "grüße", "", "g"][Int(bits % 4)])
        case .bytes, .records: return .bytes(ByteBuffer(bytes: random.bytes(Int(bits % 24))))
        case .uuid: return .uuid(KafkaUUID(high: bits, low: random.next()))
        case .array(let element):
            return .array((0..<Int(bits % 3)).map { _ in sample(element, version: version, random: &random) })
        case .structure(let schema): return .structure(value(schema, version: version, random: &random))
        }
    }
}

/// A small, seeded generator, so that a failing input can be found again.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) } }

    /// `buffer` with a few bytes flipped, cut short, or grown by random bytes; big-endian
    /// length fields get extreme values often, as they are what parsers trust.
    mutating func mutate(_ buffer: ByteBuffer) -> ByteBuffer {
        var bytes = Array(buffer.readableBytesView)
        for _ in 0..<(1 + Int(next() % 4)) {
            switch next() % 5 {
            case 0 where !bytes.isEmpty: bytes[Int(next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: next())
            case 1 where !bytes.isEmpty: bytes.removeLast(Int(next() % UInt64(bytes.count)))
            case 2: bytes += self.bytes(Int(next() % 16))
            case 3 where bytes.count >= 4:
                let at = Int(next() % UInt64(bytes.count - 3))
                let extreme: [UInt8] = [
                    [0x7f, 0xff, 0xff, 0xff], [0xff, 0xff, 0xff, 0xff], [0x80, 0, 0, 0], [0, 0, 0, 0],
                ][
                    Int(next() % 4)
                ]
                bytes.replaceSubrange(at..<at + 4, with: extreme)
            default:
                if !bytes.isEmpty { bytes[Int(next() % UInt64(bytes.count))] ^= 0x80 }
            }
        }
        return ByteBuffer(bytes: bytes)
    }
}
