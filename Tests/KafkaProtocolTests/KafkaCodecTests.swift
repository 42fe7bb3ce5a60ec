import KafkaProtocol
import NIOCore
import Testing

/// The codec against golden vectors built from Apache Kafka 3.9's message definitions by
/// `scripts/kafka-schemas.py`'s own encoder: every request and response version the broker
/// serves, flexible versions with tagged and unknown tagged fields included.
@Suite("Kafka's messages, every version served, against golden bytes", .timeLimit(.minutes(10)))
struct KafkaCodecTests {
    @Test("the vectors cover every version of every request and response served")
    func coverage() {
        for schema in Array(KafkaSchemas.requests.values) + Array(KafkaSchemas.responses.values) {
            let versions = Set(GoldenVector.all.filter { $0.schema.name == schema.name }.map(\.version))
            #expect(versions == Set(schema.valid.lowest...schema.valid.highest), "\(schema.name)")
        }
        #expect(KafkaSchemas.requests.count == 22)
    }

    @Test("golden bytes decode to the sample, the sample encodes to the golden bytes", arguments: GoldenVector.all)
    func golden(vector: GoldenVector) throws {
        var buffer = ByteBuffer(bytes: vector.bytes)
        let decoded = try KafkaCodec.decode(vector.schema, version: vector.version, from: &buffer)
        #expect(decoded == vector.value)
        let encoded = try KafkaCodec.encode(vector.value, as: vector.schema, version: vector.version)
        #expect(Array(encoded.readableBytesView) == vector.bytes)
        let again = try KafkaCodec.encode(decoded, as: vector.schema, version: vector.version)
        #expect(again == encoded)
    }

    @Test("every truncation of a message is an error, never a crash or a short message")
    func truncations() async {
        for vector in GoldenVector.all where vector.index == 0 {
            await Task.yield()  // the suite's other tests share the pool
            for length in 0..<vector.bytes.count {
                var buffer = ByteBuffer(bytes: vector.bytes[0..<length])
                #expect(throws: KafkaWireError.self, "\(vector.testDescription) cut at \(length)") {
                    _ = try KafkaCodec.decode(vector.schema, version: vector.version, from: &buffer)
                }
            }
        }
    }

    @Test("a byte after the message, and a version Kafka does not serve, are errors")
    func trailingAndUnknownVersion() throws {
        var buffer = ByteBuffer(bytes: [0, 0, 0, 0, 0])
        #expect(throws: KafkaWireError.self) {
            _ = try KafkaCodec.decode(KafkaSchemas.heartbeatResponse, version: 0, from: &buffer)
        }
        buffer = ByteBuffer(bytes: [0, 0])
        #expect(throws: KafkaWireError.self) {
            _ = try KafkaCodec.decode(KafkaSchemas.heartbeatResponse, version: 5, from: &buffer)
        }
    }

    @Test("a field the version lacks is dropped when ignorable or default, refused otherwise")
    func fieldsBeyondTheirVersions() throws {
        // ThrottleTimeMs (1+) is ignorable: Fetch v0 drops it.
        var value: KafkaStruct = ["ThrottleTimeMs": 100, "Responses": []]
        let v0 = try KafkaCodec.encode(value, as: KafkaSchemas.fetchResponse, version: 0)
        #expect(Array(v0.readableBytesView) == [0, 0, 0, 0])
        // SessionId (7+) is not: a session id in a v6 answer is an error, as in Kafka.
        value["SessionId"] = 7
        #expect(throws: KafkaWireError.self) {
            _ = try KafkaCodec.encode(value, as: KafkaSchemas.fetchResponse, version: 6)
        }
        value["SessionId"] = 0
        _ = try KafkaCodec.encode(value, as: KafkaSchemas.fetchResponse, version: 6)
    }

    @Test("a value of the wrong type, out of range, or null where not nullable is an error")
    func wrongValues() {
        let cases: [KafkaStruct] = [
            ["ErrorCode": "zero"],
            ["ErrorCode": 40_000],
            ["ErrorCode": .null],
        ]
        for value in cases {
            #expect(throws: KafkaWireError.self) {
                _ = try KafkaCodec.encode(value, as: KafkaSchemas.heartbeatResponse, version: 4)
            }
        }
    }

    @Test("the request header's client id is never compact, even in header v2")
    func clientIDIsNeverCompact() throws {
        let header: KafkaStruct = [
            "RequestApiKey": 18, "RequestApiVersion": 3, "CorrelationId": 1, "ClientId": "ab",
        ]
        let bytes = try KafkaCodec.encode(header, as: KafkaSchemas.requestHeader, version: 2)
        #expect(Array(bytes.readableBytesView) == [0, 18, 0, 3, 0, 0, 0, 1, 0, 2, 0x61, 0x62, 0])
    }
}
