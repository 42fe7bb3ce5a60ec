import KafkaBroker
import KafkaProtocol
import KafkaRecords
import NIOCore
import Synchronization
import Testing

/// The refusals a connection reported, in order.
final class RefusalLog: Sendable {
    private let refusals = Mutex<[KafkaRefusal]>([])

    func record(_ refusal: KafkaRefusal) { refusals.withLock { $0.append(refusal) } }

    var all: [KafkaRefusal] { refusals.withLock { $0 } }
}

/// A one-node broker driven through `KafkaBroker.handle` as the front drives it: requests
/// encoded with KafkaProtocol's request schemas, answers decoded with the response schemas.
struct BrokerHarness: Sendable {
    let broker: KafkaBroker
    /// A connection with Port's ACLs off (the internal listener's).
    let connection: BrokerConnection

    init(configuration: KafkaBrokerConfiguration = KafkaBrokerConfiguration(), topics: [String: Int32] = [:]) {
        broker = KafkaBroker(configuration: configuration)
        connection = Self.connection(acl: KafkaACL(enabled: false, orgID: "org", readableTopics: []))
        for (name, partitions) in topics { broker.createTopic(name, partitions: partitions) }
    }

    /// A connection of user `org` to node 1 under `acl`, reporting refusals to `refusals`.
    static func connection(acl: KafkaACL, refusals: RefusalLog = RefusalLog()) -> BrokerConnection {
        BrokerConnection(
            principal: "org",
            listener: "PLAINTEXT",
            nodeID: 1,
            addresses: [1: KafkaBrokerAddress(host: "127.0.0.1", port: 9092)],
            clientHost: "127.0.0.1",
            acl: acl,
            onRefusal: { refusals.record($0) }
        )
    }

    /// Sends `body` as version `version` of `apiKey`: the decoded answer (in `answerVersion`'s
    /// layout, the request's by default), or nil when the broker answers nothing.
    func send(
        _ apiKey: Int16,
        _ version: Int16,
        _ body: KafkaStruct,
        on connection: BrokerConnection? = nil,
        answerVersion: Int16? = nil
    ) async throws -> KafkaStruct? {
        let schema = try #require(KafkaSchemas.requests[apiKey])
        let responseSchema = try #require(KafkaSchemas.responses[apiKey])
        // A version the schema lacks is sent with an empty body, as a newer client's would be unknown.
        let encoded =
            schema.valid.contains(version) ? try KafkaCodec.encode(body, as: schema, version: version) : ByteBuffer()
        let correlationID = Int32.random(in: 1...Int32.max)
        let frame = KafkaRequest.frame(apiKey: apiKey, version: version, correlationID: correlationID) {
            $0.writeImmutableBuffer(encoded)
        }
        let request = try KafkaRequest(frame: frame)
        guard var answer = try await broker.handle(request, on: connection ?? self.connection) else { return nil }
        // The response header: the correlation id, then tagged fields for a flexible version
        // (ApiVersions answers with header v0 at every version).
        #expect(answer.readInteger(as: Int32.self) == correlationID)
        if apiKey != KafkaAPI.apiVersions, KafkaAPI.isFlexible(apiKey, version) {
            #expect(answer.readInteger(as: UInt8.self) == 0)
        }
        return try KafkaCodec.decode(responseSchema, version: answerVersion ?? version, from: &answer)
    }

    /// `send` for a request that must be answered.
    func call(
        _ apiKey: Int16,
        _ version: Int16,
        _ body: KafkaStruct,
        on connection: BrokerConnection? = nil
    ) async throws -> KafkaStruct {
        let answer = try await send(apiKey, version, body, on: connection)
        return try #require(answer, "\(KafkaAPI.name(apiKey)) v\(version) was not answered")
    }

    /// Produces `records` to one partition: that partition's answer.
    func produce(
        _ topic: String,
        partition: Int32 = 0,
        _ records: ByteBuffer,
        version: Int16 = 9,
        acks: Int64 = -1,
        on connection: BrokerConnection? = nil
    ) async throws -> KafkaStruct? {
        let body: KafkaStruct = [
            "Acks": .int(acks), "TimeoutMs": 30_000,
            "TopicData": [
                .structure([
                    "Name": .string(topic),
                    "PartitionData": [.structure(["Index": .int(Int64(partition)), "Records": .bytes(records)])],
                ])
            ],
        ]
        guard let answer = try await send(KafkaAPI.produce, version, body, on: connection) else { return nil }
        return try answer.only("Responses").only("PartitionResponses")
    }

    /// A Fetch of a topic's partitions by name (or by topic id from v13): the whole answer.
    func fetch(
        _ topic: String,
        id: KafkaUUID = .zero,
        partitions: [Int32] = [0],
        offset: Int64 = 0,
        version: Int16 = 11,
        minBytes: Int64 = 1,
        maxWaitMs: Int64 = 0,
        session: (id: Int64, epoch: Int64) = (0, -1)
    ) async throws -> KafkaStruct {
        let fetched: [KafkaValue] = partitions.map {
            .structure(["Partition": .int(Int64($0)), "FetchOffset": .int(offset), "PartitionMaxBytes": 1_048_576])
        }
        var topicEntry: KafkaStruct = ["Partitions": .array(fetched)]
        topicEntry[version >= 13 ? "TopicId" : "Topic"] = version >= 13 ? .uuid(id) : .string(topic)
        return try await call(
            KafkaAPI.fetch,
            version,
            [
                "MaxWaitMs": .int(maxWaitMs), "MinBytes": .int(minBytes), "MaxBytes": 52_428_800,
                "SessionId": .int(session.id), "SessionEpoch": .int(session.epoch),
                "Topics": [.structure(topicEntry)],
            ]
        )
    }

    /// Metadata v12 for `topics` by name (all topics for nil).
    func metadata(_ topics: [String]?, on connection: BrokerConnection? = nil) async throws -> KafkaStruct {
        let requested = topics.map { names in
            KafkaValue.array(names.map { .structure(["Name": .string($0), "TopicId": .uuid(.zero)]) })
        }
        return try await call(
            KafkaAPI.metadata,
            12,
            ["Topics": requested ?? .null, "AllowAutoTopicCreation": false],
            on: connection
        )
    }
}

extension KafkaStruct {
    /// The one structure in array field `name`.
    func only(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> KafkaStruct {
        let elements = structs(name)
        try #require(
            elements.count == 1,
            "\(name) has \(elements.count) elements, not one",
            sourceLocation: sourceLocation
        )
        return elements[0]
    }

    /// The error code field (`ErrorCode` unless named otherwise).
    func error(_ name: String = "ErrorCode") -> Int16 { Int16(truncatingIfNeeded: int(name)) }
}

extension ByteBuffer {
    /// The magic byte of the first batch or legacy message: offset int64, size int32, CRC (v0–v1)
    /// or partition leader epoch (v2) int32, then the magic.
    var firstMagic: Int8? { getInteger(at: readerIndex + 16, as: Int8.self) }
}

/// The values of the records in v2 `records`.
func values(_ records: ByteBuffer) throws -> [String] {
    try RecordSet.batches(records).flatMap { try $0.records() }.map { $0.value.map { String(buffer: $0) } ?? "" }
}
